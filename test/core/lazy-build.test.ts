// LazyBuild: built once on first use, concurrent callers share the build, a failure (null, a
// rejection or a throw) is forgotten so the next use builds again, and each instance is its own.
import { expect, test } from "bun:test";
import { LazyBuild } from "../../src/core/lazy-build.ts";

test("concurrent callers share one build; later calls reuse it", async () => {
  let builds = 0;
  const gate = Promise.withResolvers<void>();
  const lazy = new LazyBuild(async () => {
    builds++;
    await gate.promise;
    return `built ${builds}`;
  });
  const waiting = [lazy.get(), lazy.get(), lazy.get()];
  gate.resolve();
  expect(await Promise.all(waiting)).toEqual(["built 1", "built 1", "built 1"]);
  expect(await lazy.get()).toBe("built 1");
  expect(builds).toBe(1);
});

test("a failed build is forgotten: null, a rejection and a synchronous throw each build again next time", async () => {
  const outcomes: Array<() => Promise<string | null>> = [
    async () => null,
    async () => { throw new Error("rejected"); },
    () => { throw new Error("thrown synchronously"); },
    async () => "finally",
  ];
  let n = 0;
  const lazy = new LazyBuild(() => outcomes[n++]!());
  expect(await lazy.get()).toBeNull();
  expect(await lazy.get()).toBeNull();
  expect(await lazy.get()).toBeNull();
  expect(await lazy.get()).toBe("finally");
  expect(await lazy.get()).toBe("finally");
  expect(n).toBe(4);
});

test("each instance builds for itself", async () => {
  let builds = 0;
  const make = () => new LazyBuild(async () => ++builds);
  const [a, b] = [make(), make()];
  expect([await a.get(), await b.get(), await a.get()]).toEqual([1, 2, 1]);
});
