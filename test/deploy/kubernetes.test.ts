// The Kubernetes example of docs/deploy.md, parsed with Bun.YAML and checked against the code:
// its args and env parse as pushgate options (secrets as placeholders), the grace period covers
// preStop + --drain-timeout, readiness and liveness probe /healthz on the container's port, the
// API key comes from a Secret, more than one replica has Redis, and the Service finds the pods.
import { describe, expect, test } from "bun:test";
import { ENV_NAMES, configOf, docBlock, pushgateArgs } from "./deploy-doc.ts";

type Obj = Record<string, any>;

function manifests(): Obj[] {
  const parsed = Bun.YAML.parse(docBlock("kubernetes")) as Obj | Obj[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

const kind = (k: string): Obj => {
  const found = manifests().filter((m) => m.kind === k);
  if (found.length !== 1) throw new Error(`expected one ${k}, found ${found.length}`);
  return found[0]!;
};

const pod = () => kind("Deployment").spec.template.spec as Obj;
const container = (): Obj => {
  const cs = pod().containers as Obj[];
  if (cs.length !== 1) throw new Error("expected one container");
  return cs[0]!;
};

/** The container's env with every secretKeyRef as a placeholder (long enough for a JWT secret). */
function env(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of container().env as Obj[]) {
    if (typeof e.value === "string") out[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) out[e.name] = `secret-${e.valueFrom.secretKeyRef.key}-`.padEnd(64, "x");
    else throw new Error(`env ${e.name}: neither value nor secretKeyRef`);
  }
  return out;
}

/** The config the container runs with: the image's ENTRYPOINT plus `args` (which replace CMD). */
const config = () => configOf(pushgateArgs(["bun", "src/main.ts", ...(container().args as string[])]), env());

/** A probe's port (a name or a number) as the container port number. */
function portOf(p: string | number): number {
  if (typeof p === "number") return p;
  const named = (container().ports as Obj[]).find((x) => x.name === p);
  if (!named) throw new Error(`no container port named ${p}`);
  return named.containerPort;
}

describe("docs/deploy.md Kubernetes example", () => {
  test("it is a Deployment and a Service", () => {
    expect(manifests().map((m) => m.kind).sort()).toEqual(["Deployment", "Service"]);
  });

  test("args and env are pushgate options that parse; every PUSHGATE_* name exists", () => {
    for (const name of Object.keys(env())) if (name.startsWith("PUSHGATE_")) expect(ENV_NAMES).toContain(name);
    const c = config();
    expect(c.auth).toBe("jwt");
    expect(c.host).toBe("0.0.0.0");
  });

  test("terminationGracePeriodSeconds exceeds preStop + --drain-timeout (+2 s with --workers)", () => {
    const c = config();
    const preStop = container().lifecycle?.preStop;
    const sleep = preStop?.sleep?.seconds ?? 0;
    expect(sleep).toBeGreaterThan(0);
    const needed = sleep + c.drainTimeoutMs / 1000 + (c.workers > 1 ? 2 : 0);
    expect(pod().terminationGracePeriodSeconds).toBeGreaterThan(needed);
  });

  test("readiness and liveness probe /healthz on the port pushgate listens on; liveness is the slower to act", () => {
    const c = config();
    const ready = container().readinessProbe;
    const live = container().livenessProbe;
    for (const probe of [ready, live]) {
      expect(probe.httpGet.path).toBe("/healthz");
      expect(portOf(probe.httpGet.port)).toBe(c.port);
    }
    expect(live.periodSeconds * live.failureThreshold).toBeGreaterThan(ready.periodSeconds * ready.failureThreshold);
  });

  test("PUSHGATE_API_KEY and PUSHGATE_JWT_SECRET come from a Secret, never a literal", () => {
    const byName = new Map((container().env as Obj[]).map((e) => [e.name, e]));
    for (const name of ["PUSHGATE_API_KEY", "PUSHGATE_JWT_SECRET"]) {
      expect(byName.get(name)?.valueFrom?.secretKeyRef?.name).toBeString();
      expect(byName.get(name)?.value).toBeUndefined();
    }
    expect(config().apiKey).not.toBeNull();
  });

  test("more than one replica has a Redis URL (else each pod is a separate server)", () => {
    const replicas = kind("Deployment").spec.replicas ?? 1;
    expect(replicas).toBeGreaterThan(1);
    expect(config().redisUrl).toMatch(/^rediss?:\/\//);
  });

  test("the pod runs as the image's bun user (uid 1000), not root", () => {
    const sc = pod().securityContext;
    expect(sc.runAsNonRoot).toBe(true);
    expect(sc.runAsUser).toBe(1000);
    expect(docBlock("dockerfile")).toMatch(/^USER bun$/m);
  });

  test("the Deployment selects its pods and the Service reaches the container's port", () => {
    const d = kind("Deployment");
    const labels = d.spec.template.metadata.labels as Obj;
    for (const [k, v] of Object.entries(d.spec.selector.matchLabels as Obj)) expect(labels[k]).toBe(v);
    const svc = kind("Service");
    for (const [k, v] of Object.entries(svc.spec.selector as Obj)) expect(labels[k]).toBe(v);
    for (const p of svc.spec.ports as Obj[]) expect(portOf(p.targetPort)).toBe(config().port);
  });
});
