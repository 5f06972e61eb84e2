// POST /api/<method> with a JSON object body → { "result": … } or { "error": { code, message } }.
import type { Server } from "bun";
import type { Hub } from "../core/hub.ts";
import type { Err, Result } from "../core/result.ts";
import { ApiAccess } from "./access.ts";
import { errorBody, runBatch } from "./batch.ts";
import { parseJsonObject, readBody } from "./body.ts";
import { dispatch, isMethod } from "./dispatch.ts";
import { jsonResponse } from "./respond.ts";
import { httpStatusFor } from "../core/errors.ts";

export const API_PREFIX = "/api/";

export class HttpApi {
  private readonly access: ApiAccess;

  constructor(private readonly hub: Hub) {
    this.access = new ApiAccess(hub.config.apiKey, hub.config.host);
  }

  async handle(req: Request, server: Server<unknown>, path: string): Promise<Response> {
    const t0 = performance.now();
    const name = path.slice(API_PREFIX.length);
    const known = name === "batch" || isMethod(name);
    const label = known ? name : "unknown";
    let res: Response;
    try {
      res = await this.dispatch(req, server, name, known);
    } catch (e) {
      this.hub.log.error("api_error", { method: label, error: String(e) });
      res = this.fail({ ok: false, code: "E_INTERNAL", message: "internal error" });
    }
    const m = this.hub.metrics;
    m.apiRequests.incL([label, String(res.status)]);
    m.apiDuration.observe([label], (performance.now() - t0) / 1000);
    return res;
  }

  private async dispatch(req: Request, server: Server<unknown>, name: string, known: boolean): Promise<Response> {
    if (req.method !== "POST") {
      const res = this.fail({ ok: false, code: "E_METHOD_NOT_ALLOWED", message: `use POST ${API_PREFIX}<method>` });
      res.headers.set("allow", "POST");
      return res;
    }
    const denied = this.access.check(req, server);
    if (denied) return this.fail(denied);
    if (!known) return this.fail({ ok: false, code: "E_UNKNOWN_METHOD", message: `unknown method ${JSON.stringify(name)}` });
    const text = await readBody(req, this.hub.config.apiMaxBody);
    if (!text.ok) return this.fail(text);
    const body = parseJsonObject(text.value);
    if (!body.ok) return this.fail(body);
    const result: Result<unknown> = name === "batch"
      ? await runBatch(body.value, this.hub)
      : await dispatch(name, body.value, this.hub);
    return result.ok ? jsonResponse({ result: result.value }) : this.fail(result);
  }

  private fail(e: Err): Response {
    this.hub.metrics.errors.incL([e.code]);
    return jsonResponse({ error: errorBody(e) }, httpStatusFor(e.code));
  }
}
