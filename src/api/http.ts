// POST /api/<method> with a JSON object body → { "result": … } or { "error": { code, message } }.
import type { Server } from "bun";
import { httpStatusFor } from "../core/errors.ts";
import type { Hub } from "../core/hub.ts";
import { isUnknownOutcome } from "../core/outcome.ts";
import { jsonResponse } from "../core/respond.ts";
import type { Err, Result } from "../core/result.ts";
import { ApiAccess } from "./access.ts";
import { errorBody, runBatch } from "./batch.ts";
import { parseJsonObject, readBody } from "./body.ts";
import { dispatch, isMethod } from "./dispatch.ts";
import { fault } from "./guard.ts";
import type { IdempotencyCache } from "./idempotency.ts";
import { RequestBudget } from "./request-budget.ts";
import { checkCounts, membershipsOf, targetsOf } from "./targets.ts";

export const API_PREFIX = "/api/";
/** Bun.serve's own limit for a request that is not answered (its default idleTimeout). */
const BUN_REQUEST_IDLE_S = 10;

/**
 * On a cluster an answer may wait --cluster-timeout for other nodes (up to 60 s): past Bun's own
 * limit the request would be cut off with no answer at all, so this request gets longer. (Bun
 * 1.4.5 cuts an unanswered request without a body — a GET, a bodiless POST — at about 12 s; set
 * after a body was read, the timeout is armed again and would cut it: call this before readBody.)
 */
export function allowClusterWait(hub: Hub, server: Server<unknown>, req: Request): void {
  const needed = Math.ceil(hub.config.clusterTimeoutMs / 1000) + 5;
  if (hub.engine.distributed && needed > BUN_REQUEST_IDLE_S) server.timeout(req, needed);
}

export class HttpApi {
  private readonly access: ApiAccess;

  /** `idempotency`: this node's send results by idempotencyKey (server.ts sweeps it). */
  constructor(private readonly hub: Hub, private readonly idempotency: IdempotencyCache) {
    this.access = new ApiAccess(hub.config.apiKey, hub.config.host);
  }

  async handle(req: Request, server: Server<unknown>, path: string): Promise<Response> {
    const t0 = performance.now();
    const name = path.slice(API_PREFIX.length);
    const known = name === "batch" || isMethod(name);
    const label = known ? name : "unknown";
    let res: Response | null;
    try {
      res = await this.dispatch(req, server, name, known);
    } catch (e) {
      // Only the steps before a method runs can get here (methods are guarded, see answer()).
      this.hub.log.error("api_error", { method: label, error: String(e) });
      res = this.fail({ ok: false, code: "E_INTERNAL", message: "internal error" });
    }
    // Bun answered the client itself (a body past its own cap): like its other refusals, not an API answer.
    if (res === null) return new Response(null, { status: 413 });
    const m = this.hub.metrics;
    m.apiRequests.incL([label, String(res.status)]);
    m.apiDuration.observe([label], (performance.now() - t0) / 1000);
    return res;
  }

  private async dispatch(req: Request, server: Server<unknown>, name: string, known: boolean): Promise<Response | null> {
    if (req.method !== "POST") {
      const res = this.fail({ ok: false, code: "E_METHOD_NOT_ALLOWED", message: `use POST ${API_PREFIX}<method>` });
      res.headers.set("allow", "POST");
      return res;
    }
    const denied = this.access.check(req, server);
    if (denied) return this.fail(denied);
    allowClusterWait(this.hub, server, req);
    if (!known) return this.fail({ ok: false, code: "E_UNKNOWN_METHOD", message: `unknown method ${JSON.stringify(name)}` });
    const cfg = this.hub.config;
    const text = await readBody(req, cfg.apiMaxBody);
    if (text === null) return null;
    if (!text.ok) return text.code === "E_BODY_TOO_LARGE" ? this.refuse(text, "api_max_body") : this.fail(text);
    const body = parseJsonObject(text.value, cfg.maxJsonDepth);
    if (!body.ok) return body.code === "E_TOO_DEEP" ? this.refuse(body, "max_json_depth") : this.fail(body);
    if (name === "batch") return this.answer(name, await runBatch(body.value, this.hub, this.idempotency));
    const refused = checkCounts(targetsOf(body.value), membershipsOf(name, body.value, this.hub), this.hub, "params");
    if (!refused.ok) return this.fail(refused);
    return this.answer(name, await dispatch(name, body.value, this.hub, new RequestBudget(cfg.apiMaxList, cfg.apiMaxFanout), this.idempotency));
  }

  /**
   * The call has run: from here no answer is a 5xx. A fault in the method itself is already an
   * E_INTERNAL result (guard.ts): 500 when it had no effect, 202 when its outcome is unknown.
   */
  private answer(name: string, result: Result<unknown>): Response {
    try {
      if (result.ok) return jsonResponse({ result: result.value });
      return this.fail(result, isUnknownOutcome(result) ? 202 : httpStatusFor(result.code));
    } catch (e) {
      return this.fail(fault(name, this.hub, e, true), 202);
    }
  }

  private refuse(e: Err, limit: string): Response {
    this.hub.metrics.limitsExceeded.incL([limit]);
    return this.fail(e);
  }

  private fail(e: Err, status = httpStatusFor(e.code)): Response {
    this.hub.metrics.errors.incL([e.code]);
    return jsonResponse({ error: errorBody(e) }, status);
  }
}
