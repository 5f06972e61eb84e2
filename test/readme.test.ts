// The README's Quick start must stay true: CI runs the README's test command word for word.
import { expect, test } from "bun:test";

const root = new URL("..", import.meta.url).pathname;

test(".ci/run runs exactly the README's test command", async () => {
  const ci = await Bun.file(root + ".ci/run").text();
  const readme = await Bun.file(root + "README.md").text();
  const m = /^TEST_COMMAND='(.+)'$/m.exec(ci);
  expect(m).not.toBeNull();
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((b) => b[1]!);
  const testBlock = blocks.find((b) => b.includes("# run the tests"));
  expect(testBlock?.trim().split("\n").at(-1)).toBe(m![1]!);
  const startBlock = blocks.find((b) => b.includes("# start the server"));
  expect(startBlock).toContain("bun run start");
});

test("package.json: start and test scripts, no packages beyond @types/bun, Bun pinned", async () => {
  const pkg = await Bun.file(root + "package.json").json();
  expect(pkg.scripts.start).toBe("bun src/main.ts");
  expect(pkg.scripts.test).toStartWith("bun test");
  expect(Object.keys(pkg.dependencies ?? {})).toEqual([]);
  expect(Object.keys(pkg.devDependencies ?? {})).toEqual(["@types/bun"]);
  expect(pkg.packageManager).toBe("bun@1.4.5");
});
