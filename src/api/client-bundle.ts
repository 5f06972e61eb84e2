// GET /client.js: the client SDK (src/client/) bundled once with Bun.build into one ESM file,
// so a plain web page can `import { PushgateClient } from "http://host:1234/client.js"`.
import type { Logger } from "../ops/log.ts";
import { errorResponse } from "../core/respond.ts";

const ENTRY = new URL("../client/index.ts", import.meta.url).pathname;
let bundle: Promise<string | null> | null = null;

async function build(log: Logger): Promise<string | null> {
  const out = await Bun.build({ entrypoints: [ENTRY], target: "browser", format: "esm", minify: true });
  const file = out.outputs[0];
  if (!out.success || !file) {
    log.error("client_bundle_failed", { logs: out.logs.map(String) });
    return null;
  }
  return file.text();
}

export async function clientScript(log: Logger): Promise<Response> {
  bundle ??= build(log).catch((e) => {
    log.error("client_bundle_failed", { error: String(e) });
    return null;
  });
  const text = await bundle;
  if (text === null) {
    bundle = null; // retry on the next request
    return errorResponse("E_INTERNAL", "the client bundle could not be built");
  }
  return new Response(text, {
    headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300", "access-control-allow-origin": "*" },
  });
}
