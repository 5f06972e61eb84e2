// The dashboard page: a static HTML shell (page-html.ts) and its script and stylesheet, built
// from src/admin/page/ with Bun.build on first request (once per node; a failed build is retried
// on the next request), or embedded in a single binary (embedded.ts). The page holds no secret:
// the API key is typed into it.
import { errorResponse } from "../core/respond.ts";
import type { Logger } from "../ops/log.ts";
import { type EmbeddedAdmin, embeddedAdmin } from "./embedded.ts";
import { PAGE_HTML } from "./page-html.ts";

const ENTRIES = ["./page/main.ts", "./page/style.css"].map((p) => Bun.fileURLToPath(new URL(p, import.meta.url)));

// The key is typed into this page: no inline script, nothing from elsewhere, never framed.
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** The page's script and stylesheet; also what a binary build embeds (embedded.ts). */
export async function buildAdminAssets(): Promise<{ ok: true; value: EmbeddedAdmin } | { ok: false; logs: string[] }> {
  const out = await Bun.build({ entrypoints: ENTRIES, target: "browser", format: "esm", minify: true, throw: false });
  const js = out.outputs.find((o) => o.kind === "entry-point");
  const css = out.outputs.find((o) => o.path.endsWith(".css"));
  if (!out.success || !js || !css) return { ok: false, logs: out.logs.map(String) };
  return { ok: true, value: { js: await js.text(), css: await css.text() } };
}

export class AdminAssets {
  private built: Promise<EmbeddedAdmin | null> | null = null;

  constructor(private readonly log: Logger) {}

  page(): Response {
    return new Response(PAGE_HTML, { headers: { ...PAGE_HEADERS, "content-type": "text/html; charset=utf-8" } });
  }

  async file(kind: "js" | "css"): Promise<Response> {
    if (embeddedAdmin) return this.asset(kind, embeddedAdmin[kind]);
    this.built ??= this.build().catch((e) => {
      this.log.error("admin_bundle_failed", { error: String(e).slice(0, 500) });
      return null;
    });
    const b = await this.built;
    if (b === null) {
      this.built = null;
      return errorResponse("E_INTERNAL", "the admin page could not be built");
    }
    return this.asset(kind, b[kind]);
  }

  private asset(kind: "js" | "css", text: string): Response {
    const type = kind === "js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
    return new Response(text, { headers: { ...PAGE_HEADERS, "content-type": type } });
  }

  private async build(): Promise<EmbeddedAdmin | null> {
    const built = await buildAdminAssets();
    if (built.ok) return built.value;
    this.log.error("admin_bundle_failed", { logs: built.logs });
    return null;
  }
}
