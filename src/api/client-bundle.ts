// GET /client.js: the client SDK (src/client/) bundled with Bun.build into one ESM file, so a plain
// web page can `import { PushgateClient } from "http://host:1234/client.js"`; GET /client.d.ts: its
// declarations (the committed, generated src/client/pushgate-client.d.ts, see src/build/).
// From source the bundle is built once, on the first request; a single binary has both embedded.
import type { Logger } from "../ops/log.ts";
import { errorResponse } from "../core/respond.ts";
import { embeddedClient } from "./client-embedded.ts";

const ENTRY = Bun.fileURLToPath(new URL("../client/index.ts", import.meta.url));
const DECLARATIONS = Bun.fileURLToPath(new URL("../client/pushgate-client.d.ts", import.meta.url));
const HEADERS = { "cache-control": "public, max-age=300", "access-control-allow-origin": "*" };
// A process-wide memo of a build artifact that never changes while the process runs.
let bundle: Promise<string | null> | null = null;

/** The browser bundle of the SDK; also what src/build/ embeds in the binary and packs for npm. */
export async function buildClientBundle(minify = true): Promise<{ ok: true; text: string } | { ok: false; logs: string[] }> {
  // throw: false — Bun 1.4.5 otherwise throws an AggregateError without the build's messages.
  const out = await Bun.build({ entrypoints: [ENTRY], target: "browser", format: "esm", minify, throw: false });
  const file = out.outputs[0];
  if (!out.success || !file) return { ok: false, logs: out.logs.map(String) };
  return { ok: true, text: await file.text() };
}

async function build(log: Logger): Promise<string | null> {
  const built = await buildClientBundle();
  if (built.ok) return built.text;
  log.error("client_bundle_failed", { logs: built.logs });
  return null;
}

/** GET /client.js, or GET /client.d.ts with `path` "/client.d.ts". */
export async function clientScript(log: Logger, path = "/client.js"): Promise<Response> {
  if (path === "/client.d.ts") return clientTypes(log);
  if (embeddedClient) return script(embeddedClient.js);
  bundle ??= build(log).catch((e) => {
    log.error("client_bundle_failed", { error: String(e) });
    return null;
  });
  const text = await bundle;
  if (text === null) {
    bundle = null; // retry on the next request
    return errorResponse("E_INTERNAL", "the client bundle could not be built");
  }
  return script(text);
}

function script(text: string): Response {
  return new Response(text, { headers: { "content-type": "text/javascript; charset=utf-8", ...HEADERS } });
}

async function clientTypes(log: Logger): Promise<Response> {
  let text = embeddedClient?.dts;
  if (text === undefined) {
    try {
      text = await Bun.file(DECLARATIONS).text();
    } catch (e) {
      log.error("client_types_missing", { error: String(e) });
      return errorResponse("E_INTERNAL", "the client declarations are missing");
    }
  }
  return new Response(text, { headers: { "content-type": "application/typescript; charset=utf-8", ...HEADERS } });
}
