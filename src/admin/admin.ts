// GET /admin: the live dashboard, on when an API key is set (--api-key). The page and its
// assets are public (they hold nothing); /admin/api/* answers JSON to callers presenting the
// API key (the HTTP API's own check, api/access.ts). One Admin per node: it also owns the
// node's lifecycle event ring, fed through the hub's NodeEvents (events.ts).
import type { Server } from "bun";
import { ApiAccess } from "../api/access.ts";
import type { Config } from "../config/types.ts";
import type { ErrorCode } from "../core/errors.ts";
import type { Hub } from "../core/hub.ts";
import type { NodeEvents } from "../core/node-events.ts";
import { validateUid } from "../core/names.ts";
import { errorResponse, jsonResponse } from "../core/respond.ts";
import type { Result } from "../core/result.ts";
import type { Logger } from "../ops/log.ts";
import { AdminAssets } from "./assets.ts";
import { clusterStats, eventCount, lookupClient, lookupUid, runAdminCall } from "./cluster.ts";
import { EventRing, RecordingEvents } from "./events.ts";

export const ADMIN_PATH = "/admin";
const MAX_CLIENT_ID = 64;

export class Admin {
  readonly ring: EventRing;
  private readonly access: ApiAccess;
  private readonly assets: AdminAssets;

  private constructor(config: Config, log: Logger) {
    this.ring = new EventRing(config.adminEvents);
    this.access = new ApiAccess(config.apiKey, config.host);
    this.assets = new AdminAssets(log);
  }

  /** Null (the dashboard is off) unless an API key is configured. */
  static of(config: Config, log: Logger): Admin | null {
    return config.apiKey === null || config.apiKey.trim() === "" ? null : new Admin(config, log);
  }

  /** The hub's NodeEvents: records into the ring, then tells `inner` (the application's events). */
  listen(inner: NodeEvents | null): NodeEvents {
    return new RecordingEvents(this.ring, inner);
  }

  async handle(req: Request, server: Server<unknown>, path: string, hub: Hub): Promise<Response> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      const res = fail(hub, "E_METHOD_NOT_ALLOWED", `use GET ${path}`);
      res.headers.set("allow", "GET, HEAD");
      return res;
    }
    if (path === ADMIN_PATH || path === `${ADMIN_PATH}/`) return this.assets.page();
    if (path === `${ADMIN_PATH}/app.js`) return this.assets.file("js");
    if (path === `${ADMIN_PATH}/app.css`) return this.assets.file("css");
    if (!path.startsWith(`${ADMIN_PATH}/api/`)) return fail(hub, "E_NOT_FOUND", `no route ${path}`);
    const denied = this.access.check(req, server);
    if (denied) return fail(hub, denied.code, denied.message);
    const q = new URL(req.url).searchParams;
    if (path === `${ADMIN_PATH}/api/stats`) {
      const asked = q.has("events") ? Number(q.get("events")) : undefined;
      return answer(hub, { ok: true, value: await clusterStats(hub, this.ring, eventCount(asked, this.ring)) });
    }
    if (path === `${ADMIN_PATH}/api/lookup`) return answer(hub, await lookup(hub, q));
    return fail(hub, "E_NOT_FOUND", `no admin endpoint ${path}`);
  }
}

/** The route: the dashboard, or a 404 that says what turns it on. */
export function adminRoute(admin: Admin | null, hub: Hub, req: Request, server: Server<unknown>, path: string): Response | Promise<Response> {
  if (admin) return admin.handle(req, server, path, hub);
  return fail(hub, "E_NOT_FOUND", `no route ${path}: the admin dashboard needs an API key (--api-key or PUSHGATE_API_KEY)`);
}

/** Whether `path` is the dashboard's (so "/administrator" is not). */
export function isAdminPath(path: string): boolean {
  return path === ADMIN_PATH || path.startsWith(`${ADMIN_PATH}/`);
}

/** Another node's admin call (cluster.ts), or null for an API method. Answered with or without a dashboard here. */
export function adminNodeCall(admin: Admin | null, hub: Hub, method: string, params: Record<string, unknown>): Promise<Result<unknown>> | null {
  return runAdminCall(hub, admin?.ring ?? null, method, params);
}

/** ?uid=… or ?clientId=… (exactly one). */
async function lookup(hub: Hub, q: URLSearchParams): Promise<Result<unknown>> {
  const uid = q.get("uid");
  const clientId = q.get("clientId");
  if ((uid === null) === (clientId === null)) return { ok: false, code: "E_BAD_PARAMS", message: "give exactly one of ?uid= and ?clientId=" };
  if (uid !== null) {
    const v = validateUid(uid);
    return v.ok ? { ok: true, value: { uid, ...(await lookupUid(hub, uid)) } } : v;
  }
  if (clientId!.length === 0 || clientId!.length > MAX_CLIENT_ID) {
    return { ok: false, code: "E_BAD_PARAMS", message: `clientId: must be 1..${MAX_CLIENT_ID} characters`, field: "clientId" };
  }
  return { ok: true, value: { clientId, ...(await lookupClient(hub, clientId!)) } };
}

function answer(hub: Hub, r: Result<unknown>): Response {
  if (!r.ok) return fail(hub, r.code, r.message);
  const res = jsonResponse({ result: r.value });
  res.headers.set("cache-control", "no-store");
  return res;
}

function fail(hub: Hub, code: ErrorCode, message: string): Response {
  hub.metrics.errors.incL([code]);
  return errorResponse(code, message);
}
