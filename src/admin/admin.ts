// GET /admin: the live dashboard, on when an API key is set (--api-key). The page and its
// assets are public (they hold nothing); /admin/api/* answers JSON to callers presenting the
// API key (the HTTP API's own check, api/access.ts). One Admin per node: it also owns the
// node's lifecycle event ring, fed through the hub's NodeEvents (events.ts).
import type { Server } from "bun";
import { ApiAccess } from "../api/access.ts";
import { errorBody } from "../api/batch.ts";
import { allowClusterWait } from "../api/http.ts";
import { Params } from "../api/params.ts";
import type { Config } from "../config/types.ts";
import { httpStatusFor } from "../core/errors.ts";
import type { Hub } from "../core/hub.ts";
import type { NodeEvents } from "../core/node-events.ts";
import { validateUid } from "../core/names.ts";
import { jsonResponse } from "../core/respond.ts";
import { type Err, type Result, err } from "../core/result.ts";
import type { Logger } from "../ops/log.ts";
import { AdminAssets } from "./assets.ts";
import { clusterStats, eventsOf, lookupClient, lookupUid, runAdminCall } from "./cluster.ts";
import { EventRing, RecordingEvents } from "./events.ts";

export const ADMIN_PATH = "/admin";

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
    return ApiAccess.hasKey(config.apiKey) ? new Admin(config, log) : null;
  }

  /** The hub's NodeEvents: records into the ring, then tells `inner` (the application's events). */
  listen(inner: NodeEvents | null): NodeEvents {
    return new RecordingEvents(this.ring, inner);
  }

  async handle(req: Request, server: Server<unknown>, path: string, hub: Hub): Promise<Response> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      const res = fail(hub, err("E_METHOD_NOT_ALLOWED", `use GET ${path}`));
      res.headers.set("allow", "GET, HEAD");
      return res;
    }
    if (path === ADMIN_PATH || path === `${ADMIN_PATH}/`) return this.assets.page();
    if (path === `${ADMIN_PATH}/app.js` || path === `${ADMIN_PATH}/app.css`) {
      return (await this.assets.file(path.endsWith(".js") ? "js" : "css")) ?? fail(hub, err("E_INTERNAL", "the admin page could not be built (logged as admin_bundle_failed)"));
    }
    if (!path.startsWith(`${ADMIN_PATH}/api/`)) return fail(hub, err("E_NOT_FOUND", `no route ${path}`));
    const denied = this.access.check(req, server);
    if (denied) return fail(hub, denied);
    const q = new URL(req.url).searchParams;
    allowClusterWait(hub, server, req);
    if (path === `${ADMIN_PATH}/api/stats`) {
      const events = eventsOf(q.get("events") ?? undefined);
      return answer(hub, events.ok ? { ok: true, value: await clusterStats(hub, this.ring, events.value) } : events);
    }
    if (path === `${ADMIN_PATH}/api/lookup`) return answer(hub, await lookup(hub, q));
    return fail(hub, err("E_NOT_FOUND", `no admin endpoint ${path}`));
  }
}

/** The route: the dashboard, or a 404 that says what turns it on. */
export function adminRoute(admin: Admin | null, hub: Hub, req: Request, server: Server<unknown>, path: string): Response | Promise<Response> {
  if (admin) return admin.handle(req, server, path, hub);
  return fail(hub, err("E_NOT_FOUND", `no route ${path}: the admin dashboard needs an API key (--api-key or PUSHGATE_API_KEY)`));
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
  if ((uid === null) === (clientId === null)) return err("E_BAD_PARAMS", "give exactly one of ?uid= and ?clientId=");
  if (uid !== null) {
    const v = validateUid(uid);
    return v.ok ? { ok: true, value: { uid, ...(await lookupUid(hub, uid)) } } : v;
  }
  const p = new Params({ clientId });
  const id = p.clientId();
  return p.error ?? { ok: true, value: { clientId: id, ...(await lookupClient(hub, id)) } };
}

function answer(hub: Hub, r: Result<unknown>): Response {
  if (!r.ok) return fail(hub, r);
  const res = jsonResponse({ result: r.value });
  res.headers.set("cache-control", "no-store");
  return res;
}

/** Counted in errors_total, and never cached, like every /admin/api/ answer. */
function fail(hub: Hub, e: Err): Response {
  hub.metrics.errors.incL([e.code]);
  const res = jsonResponse({ error: errorBody(e) }, httpStatusFor(e.code));
  res.headers.set("cache-control", "no-store");
  return res;
}
