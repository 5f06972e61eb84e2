// The dashboard page: a static HTML shell (page-html.ts) and its script and stylesheet, built
// from src/admin/page/ with Bun.build on first request (once per node; a failed build is retried
// on the next request), or embedded in a single binary (embedded.ts). The page holds no secret:
// the API key is typed into it.
import { LazyBuild } from "../core/lazy-build.ts";
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
  private readonly built: LazyBuild<EmbeddedAdmin>;

  constructor(log: Logger) {
    this.built = new LazyBuild(async () => {
      const r = await buildAdminAssets().catch((e) => ({ ok: false as const, logs: [String(e).slice(0, 500)] }));
      if (r.ok) return r.value;
      log.error("admin_bundle_failed", { logs: r.logs });
      return null;
    });
  }

  page(): Response {
    return new Response(PAGE_HTML, { headers: { ...PAGE_HEADERS, "content-type": "text/html; charset=utf-8" } });
  }

  /** The script or the stylesheet; null when they could not be built (logged, retried on the next request). */
  async file(kind: "js" | "css"): Promise<Response | null> {
    const b = embeddedAdmin ?? (await this.built.get());
    if (b === null) return null;
    const type = kind === "js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
    return new Response(b[kind], { headers: { ...PAGE_HEADERS, "content-type": type } });
  }
}
