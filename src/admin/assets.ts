// The dashboard page: a static HTML shell (page-html.ts) and its script and stylesheet, built
// from src/admin/page/ with Bun.build on first request (once per node; a failed build is retried
// on the next request), or embedded in a single binary (embedded.ts). The page holds no secret:
// the API key is typed into it.
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

  /** The script or the stylesheet; null when they could not be built (logged, retried on the next request). */
  async file(kind: "js" | "css"): Promise<Response | null> {
    const b = embeddedAdmin ?? (await this.bundle());
    if (b === null) return null;
    const type = kind === "js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
    return new Response(b[kind], { headers: { ...PAGE_HEADERS, "content-type": type } });
  }

  /** Built once per node; a failed build is forgotten, so the next request builds again. */
  private async bundle(): Promise<EmbeddedAdmin | null> {
    this.built ??= buildAdminAssets().then(
      (r) => {
        if (r.ok) return r.value;
        this.log.error("admin_bundle_failed", { logs: r.logs });
        return null;
      },
      (e) => {
        this.log.error("admin_bundle_failed", { error: String(e).slice(0, 500) });
        return null;
      },
    );
    const b = await this.built;
    if (b === null) this.built = null;
    return b;
  }
}
