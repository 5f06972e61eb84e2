// The Dockerfile of docs/deploy.md. It cannot be built here (no registry access), so it is read:
// the base image is oven/bun pinned to the project's Bun, ENTRYPOINT + CMD parse as pushgate
// options, EXPOSE and HEALTHCHECK use that port. Then the image's contents are reproduced — only
// what it COPYs, in a temp dir as its WORKDIR — and run with its command: it must serve
// /healthz and /client.js, pass its own HEALTHCHECK, and exit 0 on SIGTERM.
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Logs } from "../cluster/nodes.ts";
import { cleanEnv } from "../helpers.ts";
import { ROOT, configOf, deployDoc, docBlock, pinnedBunVersion, pushgateArgs } from "./deploy-doc.ts";

interface Instruction { op: string; args: string }

/** Instructions with continuation lines joined and comments dropped. */
function instructions(): Instruction[] {
  const joined = docBlock("dockerfile").split("\n").filter((l) => !l.trim().startsWith("#")).join("\n").replace(/\\\n/g, " ");
  return joined.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
    const sp = l.indexOf(" ");
    return { op: l.slice(0, sp).toUpperCase(), args: l.slice(sp + 1).trim() };
  });
}

const only = (op: string): string => {
  const found = instructions().filter((i) => i.op === op);
  if (found.length !== 1) throw new Error(`the Dockerfile should have one ${op}, has ${found.length}`);
  return found[0]!.args;
};

/** An exec-form (JSON array) argument, as Docker requires for signals to reach pushgate. */
const execForm = (args: string): string[] => {
  const v = JSON.parse(args) as unknown;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new Error(`not exec form: ${args}`);
  return v as string[];
};

const command = () => [...execForm(only("ENTRYPOINT")), ...execForm(only("CMD"))];
const healthcheck = () => execForm(only("HEALTHCHECK").replace(/^(--\S+\s+)*CMD\s+/, ""));

describe("docs/deploy.md Dockerfile, read", () => {
  test("FROM the official Bun image, tagged with the project's Bun version", async () => {
    expect(only("FROM")).toBe(`oven/bun:${await pinnedBunVersion()}`);
  });

  test("ENTRYPOINT + CMD is bun src/main.ts with options that parse; EXPOSE is its port", () => {
    const cmd = command();
    expect(cmd.slice(0, 2)).toEqual(["bun", "src/main.ts"]);
    const c = configOf(pushgateArgs(cmd));
    expect(c.host).toBe("0.0.0.0"); // reachable from outside the container
    expect(Number(only("EXPOSE"))).toBe(c.port);
  });

  test("HEALTHCHECK asks /healthz on that port; USER is the image's unprivileged bun", () => {
    const c = configOf(pushgateArgs(command()));
    expect(healthcheck().join(" ")).toContain(`http://127.0.0.1:${c.port}/healthz`);
    expect(only("USER")).toBe("bun");
  });

  test("every COPY source exists in the repository", () => {
    for (const i of instructions().filter((x) => x.op === "COPY")) {
      const words = i.args.split(/\s+/);
      for (const src of words.slice(0, -1)) expect({ src, exists: existsSync(join(ROOT, src)) }).toEqual({ src, exists: true });
    }
  });

  test("docker run's --stop-timeout outlasts the image's --drain-timeout", () => {
    const c = configOf(pushgateArgs(command()));
    const stop = Number(/--stop-timeout (\d+)/.exec(deployDoc())![1]) * 1000;
    expect(stop).toBeGreaterThan(c.drainTimeoutMs + (c.workers > 1 ? 2000 : 0));
  });
});

describe("docs/deploy.md Dockerfile, its contents run", () => {
  const app = mkdtempSync(join(tmpdir(), "pushgate-image-"));
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  test("only what it COPYs, run with its command: /healthz, /client.js, its HEALTHCHECK, SIGTERM → 0", async () => {
    for (const i of instructions().filter((x) => x.op === "COPY")) {
      const words = i.args.split(/\s+/);
      const dest = words.at(-1)!;
      // Docker's rule: a destination ending in / receives the source by its name.
      for (const src of words.slice(0, -1)) {
        cpSync(join(ROOT, src), dest.endsWith("/") ? join(app, dest, basename(src)) : join(app, dest), { recursive: true });
      }
    }
    expect(existsSync(join(app, "src/main.ts"))).toBe(true);
    const [bun, ...rest] = command();
    expect(bun).toBe("bun");
    // The image's environment turns the transpiler cache off; the container's host/port become loopback and free.
    const env = cleanEnv({ BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" });
    const p = Bun.spawn([process.execPath, ...rest, "--host", "127.0.0.1", "--port", "0"], { cwd: app, env, stdout: "pipe", stderr: "pipe" });
    try {
      const logs = new Logs(p.stdout as ReadableStream<Uint8Array>);
      const port = Number((await logs.nth("listening")).port);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const js = await fetch(`http://127.0.0.1:${port}/client.js`);
      expect(js.status).toBe(200);
      expect(await js.text()).toContain("PushgateClient");

      const c = configOf(pushgateArgs(command()));
      const check = healthcheck().map((w) => w.replace(`:${c.port}/`, `:${port}/`));
      const probe = (): Promise<number> => {
        const [exe, ...args] = check;
        expect(exe).toBe("bun");
        return Bun.spawn([process.execPath, ...args], { cwd: app, env, stdout: "ignore", stderr: "ignore" }).exited;
      };
      expect(await probe()).toBe(0);

      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      await logs.nth("shutdown_done");
      expect(await probe()).not.toBe(0); // nothing listens: unhealthy
    } finally {
      if (p.exitCode === null) p.kill("SIGKILL");
    }
  });
});
