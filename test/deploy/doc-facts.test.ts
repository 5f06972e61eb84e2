// What docs/deploy.md cites must match the code: every `--flag` is a pushgate option (or one of
// the other tools' flags listed here), every PUSHGATE_* variable exists, every "(default X)"
// is the option's default, the Bun version is the project's, source paths and links resolve,
// and README.md and docs/operations.md link to it.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ENV_NAMES, FLAGS, ROOT, deployDoc, option, pinnedBunVersion } from "./deploy-doc.ts";

/** Flags of the other commands the doc shows, by tool: none of them is a pushgate option. */
const FOREIGN: Record<string, string> = {
  "--env-file": "docker run", "--name": "docker run", "--ulimit": "docker run", "--stop-timeout": "docker run",
  "--interval": "HEALTHCHECK", "--timeout": "HEALTHCHECK", "--start-period": "HEALTHCHECK",
  "--from-literal": "kubectl create secret",
  "--system": "useradd", "--home-dir": "useradd", "--shell": "useradd",
  "--now": "systemctl enable", "--value": "systemctl show",
};

const doc = deployDoc();

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");
const anchors = (md: string) => new Set([...md.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));

describe("docs/deploy.md cites only what exists", () => {
  test("every --flag is a pushgate option or a listed flag of another tool", () => {
    const flags = new Set([...doc.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]));
    const unknown = [...flags].filter((f) => !FLAGS.has(f) && !(f in FOREIGN));
    expect(unknown).toEqual([]);
    for (const f of Object.keys(FOREIGN)) expect(FLAGS.has(f)).toBe(false);
  });

  test("every PUSHGATE_* variable exists", () => {
    const names = new Set([...doc.matchAll(/PUSHGATE_[A-Z0-9_]+/g)].map((m) => m[0]));
    expect(names.size).toBeGreaterThan(0);
    expect([...names].filter((n) => !ENV_NAMES.has(n))).toEqual([]);
  });

  test("every \"--flag (default X)\" is that option's default", () => {
    const cited = [...doc.matchAll(/`?(--[a-z0-9-]+)`? \(default `?([^`)]+?)`?( s)?\)/g)];
    expect(cited.length).toBeGreaterThanOrEqual(3);
    for (const [, flag, value] of cited) {
      const row = option(flag!);
      expect({ flag, value: row.parse(value!) }).toEqual({ flag, value: row.parse(row.default) });
    }
  });

  test("the Bun version it names is the project's pin", async () => {
    const pinned = await pinnedBunVersion();
    const versions = [...doc.matchAll(/(?:Bun |bun@|oven\/bun:)(\d+\.\d+\.\d+)/g)].map((m) => m[1]);
    expect(versions.length).toBeGreaterThan(2);
    expect(new Set(versions)).toEqual(new Set([pinned]));
  });

  test("every source path it names exists", () => {
    const paths = new Set([...doc.matchAll(/\b(?:src|test)\/[\w/.-]*\w/g)].map((m) => m[0]));
    expect(paths.size).toBeGreaterThan(2);
    expect([...paths].filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  test("every relative link and anchor resolves", () => {
    const broken: string[] = [];
    for (const [, file, anchor] of doc.matchAll(/\]\(([\w./-]*\.md)?(?:#([\w-]+))?\)/g)) {
      const path = file ? join(ROOT, "docs", file) : join(ROOT, "docs/deploy.md");
      if (!existsSync(path)) { broken.push(file!); continue; }
      if (anchor && !anchors(readFileSync(path, "utf8")).has(anchor)) broken.push(`${file ?? ""}#${anchor}`);
    }
    expect(broken).toEqual([]);
  });

  test("README.md and docs/operations.md link to it", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("](docs/deploy.md)");
    expect(readFileSync(join(ROOT, "docs/operations.md"), "utf8")).toContain("](deploy.md)");
  });
});
