import { expect } from "chai";
import type { App, Plan, Pool, Release } from "../../../src/model/kinds.ts";
import { admit } from "../../../src/reconcilers/desired/admission.ts";
import { bindingEnv } from "../../../src/reconcilers/desired/bindings.ts";
import { contentHash, nextRelease, releasesToPrune, summarize } from "../../../src/reconcilers/desired/release.ts";
import { appURLs, desiredDeployment, desiredHPA, desiredIngress, desiredPDB, desiredService } from "../../../src/reconcilers/desired/workloads.ts";
import { desiredPoolObjects } from "../../../src/reconcilers/pool.ts";

const app = (spec: Partial<App["spec"]> = {}, annotations: Record<string, string> = {}): App => ({
  apiVersion: "berth.dev/v1alpha1",
  kind: "App",
  metadata: { name: "shop", namespace: "team-a", uid: "u-1", generation: 1, annotations },
  spec: { image: "shop:1", processes: [{ name: "web", replicas: 3, ports: [{ port: 8080 }], healthCheck: { path: "/healthz" } }, { name: "worker" }], ...spec },
});

const release = (version: number, hash: string, image = "shop:1"): Release => ({
  metadata: { name: `shop-v${version}`, namespace: "team-a", uid: `r-${version}` },
  spec: { app: "shop", version, image, processes: app().spec.processes, envSecretName: `shop-v${version}-env`, contentHash: hash },
});

describe("release logic", () => {
  const content = { image: "shop:1", processes: app().spec.processes, env: { A: "1" } };

  it("hashes content independently of key order", () => {
    expect(contentHash({ ...content, env: { A: "1", B: "2" } })).to.equal(contentHash({ ...content, env: { B: "2", A: "1" } }));
    expect(contentHash(content)).to.not.equal(contentHash({ ...content, env: { A: "2" } }));
  });

  it("creates v1, then nothing while the content is unchanged, then v2", () => {
    const v1 = nextRelease(app({}, { "berth.dev/actor": "alice" }), [], content, undefined)!;
    expect(v1.metadata.name).to.equal("shop-v1");
    expect(v1.spec).to.include({ version: 1, envSecretName: "shop-v1-env", summary: "alice created the app with shop:1", author: "alice" });
    expect(v1.metadata.ownerReferences?.[0]).to.include({ kind: "App", uid: "u-1", controller: true });
    const stored = release(1, v1.spec.contentHash);
    expect(nextRelease(app(), [stored], content, content.env)).to.equal(undefined);
    const v2 = nextRelease(app({ image: "shop:2" }), [stored], { ...content, image: "shop:2" }, content.env)!;
    expect(v2.spec.version).to.equal(2);
    expect(v2.spec.summary).to.equal("kubectl deployed shop:2");
  });

  it("recognises a return to an earlier release's content as a rollback", () => {
    const h1 = contentHash(content);
    const v3 = nextRelease(app(), [release(1, h1), release(2, "other", "shop:2")], content, { A: "1" })!;
    expect(v3.spec).to.include({ version: 3, rollbackOf: 1, summary: "kubectl rolled back to v1" });
  });

  it("summarises env and process changes", () => {
    const prev = { image: "i", processes: [{ name: "web" }], env: { A: "1", B: "2" } };
    expect(summarize(prev, { image: "i", processes: [{ name: "web" }], env: { A: "9", C: "3" } }, "bob")).to.equal("bob set A, C; unset B");
    expect(summarize(prev, { image: "i", processes: [{ name: "web", replicas: 2 }], env: prev.env }, "bob")).to.equal("bob changed processes web");
  });

  it("prunes the oldest releases beyond the limit, never the current one", () => {
    const rs = [1, 2, 3, 4, 5].map((v) => release(v, String(v)));
    expect(releasesToPrune(rs, 3, 5).map((r) => r.spec.version)).to.deep.equal([1, 2]);
    expect(releasesToPrune(rs, 3, 1).map((r) => r.spec.version)).to.deep.equal([2]);
  });
});

describe("workloads", () => {
  const r = release(4, "h", "shop:4");
  const pool: Pool = { metadata: { name: "p" }, spec: { nodeSelector: { zone: "a" }, tolerations: [{ key: "k", operator: "Exists" }], ingressClassName: "nginx" } };
  const plan: Plan = { metadata: { name: "small" }, spec: { cpu: "100m", memory: "128Mi" } };

  it("builds a Deployment from the release, plan and pool", () => {
    const d = desiredDeployment(app(), r, app().spec.processes[0]!, { pool, plan }) as unknown as {
      metadata: { name: string };
      spec: { replicas: number; template: { metadata: { labels: Record<string, string> }; spec: { nodeSelector: object; tolerations: object[]; containers: Record<string, unknown>[] } } };
    };
    expect(d.metadata.name).to.equal("shop-web");
    expect(d.spec.replicas).to.equal(3);
    expect(d.spec.template.metadata.labels["berth.dev/release"]).to.equal("v4");
    expect(d.spec.template.spec.nodeSelector).to.deep.equal({ zone: "a" });
    expect(d.spec.template.spec.tolerations).to.have.length(1);
    const c = d.spec.template.spec.containers[0]!;
    expect(c.image).to.equal("shop:4");
    expect(c.envFrom).to.deep.equal([{ secretRef: { name: "shop-v4-env" } }]);
    expect(c.resources).to.deep.equal({ requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "100m", memory: "128Mi" } });
    expect(c.readinessProbe).to.deep.include({ httpGet: { path: "/healthz", port: 8080 } });
  });

  it("scales to zero when stopped or sleeping, and leaves replicas to the HPA when autoscaled", () => {
    const spec = (a: App) => (desiredDeployment(a, r, a.spec.processes[0]!, {}) as unknown as { spec: { replicas?: number } }).spec;
    expect(spec(app({ state: "Stopped" })).replicas).to.equal(0);
    expect(spec(app({ state: "Sleeping" })).replicas).to.equal(0);
    const auto = app({ autoscaling: { minReplicas: 2, maxReplicas: 5 } });
    expect(spec(auto)).to.not.have.property("replicas");
    expect(desiredHPA(auto)).to.deep.nested.include({ "spec.minReplicas": 2, "spec.maxReplicas": 5, "spec.scaleTargetRef.name": "shop-web" });
    expect(desiredHPA(app({ autoscaling: { minReplicas: 2, maxReplicas: 5 }, state: "Stopped" }))).to.equal(undefined);
  });

  it("adds a Service only with ports, a PDB only above one unit, an Ingress only with domains", () => {
    const [web, worker] = app().spec.processes;
    expect(desiredService(app(), worker!)).to.equal(undefined);
    expect(desiredService(app(), web!)).to.deep.nested.include({ "spec.ports[0].port": 8080 });
    expect(desiredPDB(app(), web!)).to.not.equal(undefined);
    expect(desiredPDB(app(), worker!)).to.equal(undefined);
    expect(desiredIngress(app(), pool)).to.equal(undefined);
    const withDomain = app({ domains: ["shop.example.com"], tls: { secretName: "shop-tls" } });
    expect(desiredIngress(withDomain, pool)).to.deep.nested.include({ "spec.ingressClassName": "nginx", "spec.tls[0].secretName": "shop-tls" });
    expect(appURLs(withDomain)).to.deep.equal(["https://shop.example.com"]);
    expect(appURLs(app())).to.deep.equal(["http://shop-web.team-a.svc:8080"]);
  });
});

describe("admission", () => {
  const pool: Pool = { metadata: { name: "gold" }, spec: { teams: ["a"], plans: ["big"] } };
  const big: Plan = { metadata: { name: "big" }, spec: { cpu: "1", memory: "1Gi" } };
  it("allows the pool's teams and plans and explains refusals", () => {
    expect(admit(app({ owner: "a", pool: "gold", plan: "big" }), pool, big)).to.deep.equal({ ok: true });
    expect(admit(app({ owner: "b", pool: "gold" }), pool, big)).to.include({ ok: false, reason: "TeamNotAllowed" });
    expect(admit(app({ owner: "a", pool: "gold" }), pool, undefined)).to.include({ reason: "PlanNotAllowed" });
    expect(admit(app({ pool: "nope" }), undefined, undefined)).to.deep.include({ reason: "PoolNotFound", message: 'pool "nope" does not exist' });
    expect(admit(app({ owner: "z", pool: "gold" }), { ...pool, spec: { public: true } }, big)).to.deep.equal({ ok: true });
  });
});

describe("bindings and pools", () => {
  it("fills the class's bindEnv templates with the credentials", () => {
    const cls = { metadata: { name: "pg" }, spec: { image: "pg", port: 5432, plans: [{ name: "s" }], bindEnv: [{ name: "URL", value: "pg://$(USERNAME):$(PASSWORD)@$(HOST):$(PORT)" }] } };
    expect(bindingEnv(cls, { USERNAME: "u", PASSWORD: "p", HOST: "h", PORT: "5432" })).to.deep.equal({ URL: "pg://u:p@h:5432" });
  });

  it("gives a pool a namespace, a quota from its limits and a limit range", () => {
    const { namespace, quota, limits } = desiredPoolObjects({ metadata: { name: "gold", uid: "p" }, spec: { quota: { pods: 10, cpu: "4" } } });
    expect(namespace.metadata.name).to.equal("pool-gold");
    expect(namespace.metadata.ownerReferences).to.equal(undefined); // never garbage-collect apps
    expect(quota).to.deep.nested.include({ "spec.hard.pods": "10", "spec.hard.requests\\.cpu": "4" });
    expect(limits.metadata.namespace).to.equal("pool-gold");
  });
});
