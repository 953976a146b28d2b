// `berth router` against the real API server: Apps and EndpointSlices from informers, real pods
// on the real node (tests that need pods skip, saying why, when the cluster has no real node).
import { connect } from "node:net";
import { expect } from "chai";
import type { App, Pool } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningRouter } from "../../../src/router/start.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { deleteNamespace, eventually, kubectl, testNamespace } from "../support/kube.ts";
import { APPS_DOMAIN, REAL_POD_NETWORK, get, metricValue, realNode, testRouter } from "./support.ts";

describe("router", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  let router: RunningRouter;
  let ns = "";

  const app = (name: string, spec: Partial<App["spec"]>): App => ({
    apiVersion: "berth.dev/v1alpha1",
    kind: "App",
    metadata: { name, namespace: ns },
    spec: { image: "busybox", processes: [{ name: "web", replicas: 1, ports: [{ port: 8080 }] }], ...spec },
  });

  before(async () => {
    ns = await testNamespace("router");
    berth = await startBerth();
    router = await testRouter(berth.client);
  });
  after(async () => {
    await router?.close();
    await berth?.stop();
    await deleteNamespace(ns);
  });

  it("is ready once its caches synced, and serves /healthz and its metrics", async () => {
    expect((await get(router.metricsPort, "127.0.0.1", "/readyz")).status).to.equal(200);
    expect((await get(router.metricsPort, "127.0.0.1", "/healthz")).status).to.equal(200);
    await get(router.port, `nobody.${APPS_DOMAIN}`);
    const metrics = (await get(router.metricsPort, "127.0.0.1", "/metrics")).body;
    expect(metrics).to.contain("berth_router_requests_total").and.contain("berth_router_request_duration_seconds_bucket");
  });

  it("answers 404 with a clear body for a host no app claims", async () => {
    const a = await get(router.port, `nobody-${ns}.${APPS_DOMAIN}`);
    expect(a.status).to.equal(404);
    expect(a.body).to.contain(`no app answers on nobody-${ns}.${APPS_DOMAIN}`);
  });

  it("routes an app's name and its cnames to it, and answers 503 naming it while it has no ready endpoint", async () => {
    const cname = `stopped.${ns}.example.com`;
    await berth.client.create(BerthTypes.App, app("stopped", { state: "Stopped", domains: [cname] }));
    for (const host of [`stopped.${APPS_DOMAIN}`, cname]) {
      const a = await eventually(`503 from ${host}`, async () => {
        const r = await get(router.port, host);
        return r.status === 503 ? r : undefined;
      });
      expect(a.body).to.contain(`app "stopped" (namespace ${ns}) has no ready endpoint`);
      expect(a.headers["x-berth-router"]).to.equal("no-ready-endpoints");
    }
    // A changed cname moves with the App.
    await berth.client.mergePatch(BerthTypes.App, ns, "stopped", { spec: { domains: [`moved.${ns}.example.com`] } });
    await eventually("the new cname routes", async () => (await get(router.port, `moved.${ns}.example.com`)).status === 503);
    expect((await get(router.port, cname)).status).to.equal(404);
    const count = await metricValue(router.metricsPort, "berth_router_requests_total", { namespace: ns, app: "stopped", code: "503" });
    expect(count).to.be.at.least(3);
  });

  describe("with pods on the real node", function () {
    const cname = () => `www.${ns}.example.com`;
    let pool = "";
    let pods: () => Promise<{ name: string; ip: string }[]>;

    before(async function () {
      const node = await realNode();
      if (!node) {
        process.stderr.write("      (skipped: no Ready node labelled berth.dev/node-group=real: the cluster runs without the real node (BERTH_REAL_NODES=0, no root, or another cluster on this machine holds it))\n");
        this.skip();
      }
      const registry = process.env.BERTH_REGISTRY ?? "10.245.1.1:5000";
      pool = `router-${ns.slice(-6)}`;
      await berth.client.create<Pool>(BerthTypes.Pool, {
        metadata: { name: pool },
        spec: { namespace: ns, public: true, nodeSelector: { "berth.dev/node-group": "real" }, tolerations: [{ key: "berth.dev/real-node", operator: "Exists", effect: "NoSchedule" }] },
      });
      // hello.py answers with its pod's name; sleep keeps the pod Ready (no probe) when the server
      // is killed, so the router still sees the endpoint and meets a refused connection.
      await berth.client.create(
        BerthTypes.App,
        app("web", { image: `${registry}/berth/hello:1`, pool, domains: [cname()], processes: [{ name: "web", replicas: 1, ports: [{ port: 8080 }], command: ["sh", "-c", "python3 /app/hello.py & exec sleep 86400"] }] }),
      );
      pods = async () => {
        const out = await kubectl("get", "pods", "-n", ns, "-l", "berth.dev/app=web", "-o", 'jsonpath={range .items[?(@.status.podIP)]}{.metadata.name}{" "}{.status.podIP}{"\\n"}{end}');
        return out
          .split("\n")
          .filter(Boolean)
          .map((l) => {
            const [name = "", ip = ""] = l.split(" ");
            return { name, ip };
          });
      };
      await kubectl("wait", "--for=condition=Ready", "--timeout=120s", "-n", ns, "apps.berth.dev/web");
    });
    after(async () => {
      if (pool) await berth.client.delete(BerthTypes.Pool, undefined, pool).catch(() => undefined);
    });

    it("serves the app through the router by Host, from a pod on the real node", async () => {
      const a = await eventually("200 through the router", async () => {
        const r = await get(router.port, `web.${APPS_DOMAIN}`);
        return r.status === 200 ? r : undefined;
      });
      const [pod] = await pods();
      expect(pod?.ip.startsWith("10.245.")).to.equal(true, `pod IP ${pod?.ip} in ${REAL_POD_NETWORK}`);
      expect(a.body).to.contain(`from ${pod?.name}`);
    });

    it("routes the app's cname", async () => {
      const a = await get(router.port, cname());
      expect(a.status).to.equal(200);
      expect(a.body).to.match(/ from web-web-/);
    });

    it("scaled to 3, spreads requests over all 3 pods", async () => {
      await kubectl("patch", "apps.berth.dev", "web", "-n", ns, "--type=json", "-p", '[{"op":"replace","path":"/spec/processes/0/replicas","value":3}]');
      await eventually("3 ready endpoints", async () => router.table.route(`${ns}/web`)?.endpoints.length === 3, 120_000);
      // Without a readiness probe a pod is Ready once its container started, a moment before
      // python listens (the router retries those refusals elsewhere): wait until all 3 listen.
      await eventually("3 pods listening", async () => {
        const now = await pods();
        return now.length === 3 && (await Promise.all(now.map((p) => refuses(p.ip)))).every((refused) => !refused);
      }, 60_000);
      const seen = new Map<string, number>();
      for (let i = 0; i < 30; i++) {
        const a = await get(router.port, `web.${APPS_DOMAIN}`);
        expect(a.status).to.equal(200);
        const pod = / from (\S+) /.exec(a.body)?.[1] ?? "?";
        seen.set(pod, (seen.get(pod) ?? 0) + 1);
      }
      const names = (await pods()).map((p) => p.name).sort();
      expect([...seen.keys()].sort()).to.deep.equal(names);
      expect([...seen.values()]).to.deep.equal([10, 10, 10]); // round robin
    });

    it("through the activator hook, holds a request for a stopped app, wakes it and answers from its new pod", async () => {
      let woken = 0;
      const waking = await testRouter(berth.client, { port: 0, metricsPort: 0, requestTimeoutMs: 120_000 }, (table) => ({
        activate: async (route, _req, signal) => {
          woken++;
          await berth.client.mergePatch(BerthTypes.App, route.namespace, route.app, { spec: { state: "Running" } });
          return table.waitForEndpoints(route.key, signal);
        },
      }));
      try {
        await berth.client.create(
          BerthTypes.App,
          app("sleepy", { image: `${process.env.BERTH_REGISTRY ?? "10.245.1.1:5000"}/berth/hello:1`, pool, state: "Stopped", processes: [{ name: "web", replicas: 1, ports: [{ port: 8080 }], healthCheck: { path: "/healthz", periodSeconds: 1 } }] }),
        );
        await eventually("the router knows the stopped app", async () => (await get(router.port, `sleepy.${APPS_DOMAIN}`)).status === 503);
        const a = await get(waking.port, `sleepy.${APPS_DOMAIN}`, "/", 120_000);
        expect(a.status).to.equal(200);
        expect(a.body).to.match(/ from sleepy-web-/);
        expect(woken).to.equal(1);
      } finally {
        await waking.close();
      }
    });

    it("with scale to zero on (berth router's default), wakes a Sleeping App from a held request and answers from its new pod", async () => {
      const waking = await testRouter(berth.client, { port: 0, metricsPort: 0, requestTimeoutMs: 120_000 }, undefined, true);
      try {
        await berth.client.create(
          BerthTypes.App,
          app("dozy", { image: `${process.env.BERTH_REGISTRY ?? "10.245.1.1:5000"}/berth/hello:1`, pool, state: "Sleeping", idle: { timeoutMinutes: 30 }, processes: [{ name: "web", replicas: 1, ports: [{ port: 8080 }], healthCheck: { path: "/healthz", periodSeconds: 1 } }] }),
        );
        await eventually("the router knows the sleeping app", async () => (await get(router.port, `dozy.${APPS_DOMAIN}`)).status === 503);
        const a = await get(waking.port, `dozy.${APPS_DOMAIN}`, "/", 120_000);
        expect(a.status).to.equal(200);
        expect(a.body).to.match(/ from dozy-web-/);
        expect((await berth.client.get<App>(BerthTypes.App, ns, "dozy")).spec.state).to.equal("Running");
      } finally {
        await waking.close();
      }
    });

    it("sends a request to another pod when one refuses the connection, and counts the error", async () => {
      const [victim] = await pods();
      if (!victim) throw new Error("no pod");
      await kubectl("exec", "-n", ns, victim.name, "--", "killall", "python3");
      await eventually("the victim refuses connections", () => refuses(victim.ip));
      // Still Ready (no probe): the router keeps it as an endpoint and must retry elsewhere.
      expect(router.table.route(`${ns}/web`)?.endpoints.map((e) => e.address)).to.include(victim.ip);
      const before = await metricValue(router.metricsPort, "berth_router_upstream_errors_total", { namespace: ns, app: "web", reason: "connect" });
      const bodies: string[] = [];
      for (let i = 0; i < 12; i++) {
        const a = await get(router.port, `web.${APPS_DOMAIN}`);
        expect(a.status).to.equal(200);
        bodies.push(a.body);
      }
      expect(bodies.some((b) => b.includes(victim.name))).to.equal(false);
      const after = await metricValue(router.metricsPort, "berth_router_upstream_errors_total", { namespace: ns, app: "web", reason: "connect" });
      expect(after - before).to.be.at.least(3); // one in three requests meets the victim first
    });
  });
});

/** Whether a TCP connection to ip:8080 is refused now. */
function refuses(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port: 8080, timeout: 2000 });
    s.once("connect", () => (s.destroy(), resolve(false)));
    s.once("error", () => resolve(true));
    s.once("timeout", () => (s.destroy(), resolve(false)));
  });
}
