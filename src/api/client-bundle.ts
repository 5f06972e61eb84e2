// GET /client.js: the client SDK (src/client/) bundled with Bun.build into one ESM file, so a plain
// web page can `import { PushgateClient } from "http://host:1234/client.js"`; GET /client.d.ts: its
// declarations (the committed, generated src/client/pushgate-client.d.ts, see src/build/).
// From source the bundle is built once, on the first request; a single binary has both embedded.
import type { Logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import { errorResponse } from "../core/respond.ts";
import { LazyBuild } from "../core/lazy-build.ts";
import { embeddedClient } from "./client-embedded.ts";

const ENTRY = Bun.fileURLToPath(new URL("../client/index.ts", import.meta.url));
const DECLARATIONS = Bun.fileURLToPath(new URL("../client/pushgate-client.d.ts", import.meta.url));
const HEADERS = { "cache-control": "public, max-age=300", "access-control-allow-origin": "*" };

/** The browser bundle of the SDK; also what src/build/ embeds in the binary and packs for npm. */
export async function buildClientBundle(minify = true): Promise<{ ok: true; text: string } | { ok: false; logs: string[] }> {
  // throw: false — Bun 1.4.5 otherwise throws an AggregateError without the build's messages.
  const out = await Bun.build({ entrypoints: [ENTRY], target: "browser", format: "esm", minify, throw: false });
  const file = out.outputs[0];
  if (!out.success || !file) return { ok: false, logs: out.logs.map(String) };
  return { ok: true, text: await file.text() };
}

/** One node's GET /client.js and GET /client.d.ts. */
export class ClientBundle {
  private readonly bundle: LazyBuild<string>;

  constructor(private readonly log: Logger, private readonly metrics: Metrics) {
    this.bundle = new LazyBuild(async () => {
      const built = await buildClientBundle().catch((e) => ({ ok: false as const, logs: [String(e)] }));
      if (built.ok) return built.text;
      log.error("client_bundle_failed", { logs: built.logs });
      return null;
    });
  }

  /** GET /client.js, or GET /client.d.ts with `path` "/client.d.ts". */
  async serve(path: string): Promise<Response> {
    if (path === "/client.d.ts") return this.types();
    const text = embeddedClient?.js ?? (await this.bundle.get());
    if (text === null) return this.internal("the client bundle could not be built"); // retried on the next request
    return new Response(text, { headers: { "content-type": "text/javascript; charset=utf-8", ...HEADERS } });
  }

  private async types(): Promise<Response> {
    let text = embeddedClient?.dts;
    if (text === undefined) {
      try {
        text = await Bun.file(DECLARATIONS).text();
      } catch (e) {
        this.log.error("client_types_missing", { error: String(e) });
        return this.internal("the client declarations are missing");
      }
    }
    return new Response(text, { headers: { "content-type": "application/typescript; charset=utf-8", ...HEADERS } });
  }

  private internal(message: string): Response {
    this.metrics.errors.incL(["E_INTERNAL"]);
    return errorResponse("E_INTERNAL", message);
  }
}
