import { expect, test } from "bun:test";
import { renderConfigDocs } from "../../src/config/render-docs.ts";
import { startPushgate } from "../../src/server.ts";

test("docs/configuration.md is what the generator writes (bun src/config/render-docs.ts > docs/configuration.md)", async () => {
  const onDisk = await Bun.file(new URL("../../docs/configuration.md", import.meta.url)).text();
  expect(onDisk).toBe(renderConfigDocs());
});

test("startPushgate runs the same conflict checks as the CLI", () => {
  expect(() => startPushgate({ port: 0, logLevel: "silent", idleTimeout: 5 })).toThrow(
    "invalid value for --idle-timeout (PUSHGATE_IDLE_TIMEOUT): Bun's minimum is 8 seconds (0 disables)",
  );
});
