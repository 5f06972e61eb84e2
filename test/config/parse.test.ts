import { describe, expect, test } from "bun:test";
import { defaultConfig, parseConfig } from "../../src/config/parse.ts";
import { OPTIONS } from "../../src/config/spec.ts";

function config(argv: string[], env: Record<string, string> = {}) {
  const r = parseConfig(argv, env);
  if (!r.ok) throw new Error("help" in r && r.help ? "help" : (r as { error: string }).error);
  return r.config;
}

function error(argv: string[], env: Record<string, string> = {}): string {
  const r = parseConfig(argv, env);
  if (r.ok || r.help) throw new Error("expected an error");
  return r.error;
}

describe("config", () => {
  test("documented defaults", () => {
    const c = defaultConfig();
    expect(c).toMatchObject({
      port: 1234, host: "0.0.0.0", auth: "uid", allowClientSend: true, loginTimeoutMs: 10_000,
      maxPayload: 64 * 1024, backpressureLimit: 1024 * 1024, apiMaxBody: 128 * 1024, apiKey: null,
    });
  });

  test("every option has a flag and a PUSHGATE_ env var, all distinct", () => {
    expect(new Set(OPTIONS.map((o) => o.flag)).size).toBe(OPTIONS.length);
    for (const o of OPTIONS) expect(o.env).toStartWith("PUSHGATE_");
  });

  test("flags beat env, env beats defaults", () => {
    expect(config([], { PUSHGATE_PORT: "9000" }).port).toBe(9000);
    expect(config(["--port", "9001"], { PUSHGATE_PORT: "9000" }).port).toBe(9001);
    expect(config(["--port=9002"]).port).toBe(9002);
  });

  test("sizes, durations and booleans", () => {
    const c = config(["--max-payload", "2KiB", "--login-timeout", "1.5s", "--no-allow-client-send", "--drain-timeout=250ms"]);
    expect(c.maxPayload).toBe(2048);
    expect(c.loginTimeoutMs).toBe(1500);
    expect(c.allowClientSend).toBe(false);
    expect(c.drainTimeoutMs).toBe(250);
    expect(config(["--history-ttl", "1h"]).historyTtlMs).toBe(3_600_000);
    expect(config(["--allow-client-send", "false"]).allowClientSend).toBe(false);
    expect(config([], { PUSHGATE_ALLOW_CLIENT_SEND: "off" }).allowClientSend).toBe(false);
    expect(config([], { PUSHGATE_API_KEY: "s3cret" }).apiKey).toBe("s3cret");
  });

  test("exact errors", () => {
    expect(error(["--port", "-1"])).toBe('invalid value for --port: "-1" is not a whole number in 0..65535');
    expect(error(["--bogus"])).toBe("unknown option --bogus (see --help)");
    expect(error(["--port"])).toBe("missing value for --port");
    expect(error(["--auth", "magic"])).toBe('invalid value for --auth: "magic" is not one of: uid, jwt, hook');
    expect(error([], { PUSHGATE_LOGIN_TIMEOUT: "soon" })).toBe(
      'invalid value for PUSHGATE_LOGIN_TIMEOUT: "soon" is not a duration in 50..3600000 ms (e.g. 500ms, 10s, 2m, 1h)',
    );
    expect(error(["--idle-timeout", "5"])).toBe(
      "invalid value for --idle-timeout (PUSHGATE_IDLE_TIMEOUT): Bun's minimum is 8 seconds (0 disables)",
    );
    expect(error(["--max-payload", "2MiB"])).toStartWith("conflicting options: --max-payload");
    expect(error(["--max-connections", "10"])).toStartWith("conflicting options: --max-connections-per-uid");
  });

  test("--help", () => {
    const r = parseConfig(["--port", "1", "--help"]);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.help).toBe(true);
  });
});

describe("jwt options", () => {
  test("--auth jwt needs exactly one key; jwt options need --auth jwt", () => {
    const need = "conflicting options: --auth jwt needs exactly one of --jwt-secret (PUSHGATE_JWT_SECRET) or --jwt-public-key (PUSHGATE_JWT_PUBLIC_KEY)";
    expect(error(["--auth", "jwt"])).toBe(need);
    expect(error(["--auth", "jwt", "--jwt-secret", "s", "--jwt-public-key", "/k.pem"])).toBe(need);
    expect(error(["--jwt-secret", "s"])).toBe("conflicting options: --jwt-* options need --auth jwt (PUSHGATE_AUTH=jwt)");
    expect(error(["--jwt-issuer", "me"])).toBe("conflicting options: --jwt-* options need --auth jwt (PUSHGATE_AUTH=jwt)");
    const c = config(["--auth", "jwt"], { PUSHGATE_JWT_SECRET: "x".repeat(32), PUSHGATE_JWT_AUDIENCE: "app" });
    expect(c).toMatchObject({ auth: "jwt", jwtSecret: "x".repeat(32), jwtAudience: "app", jwtIssuer: null, jwtPublicKey: null });
  });

  test("history and idempotency options", () => {
    const c = config(["--history-size", "5", "--history-ttl", "30s", "--history-max-bytes", "1MiB", "--idempotency-window", "1m"]);
    expect(c).toMatchObject({ historySize: 5, historyTtlMs: 30_000, historyMaxBytes: 1024 * 1024, idempotencyWindowMs: 60_000 });
  });
});
