// Scale from zero through a Service's ClusterIP (the activator pattern): while an App with idle
// scaling sleeps, an EndpointSlice of the router's points its Service at the router (here the
// real node's bridge address, where the test's router listens), so a request from a pod to
// <svc>.<ns>.svc, or from the host to the ClusterIP through kube-proxy, lands on the router,
// which wakes the App and answers from its new pod. Then the slice goes and the App's own
// endpoints serve the ClusterIP directly. Real node only.
import http from "node:http";
import { expect } from "chai";
import type { App } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { EndpointSlice } from "../../../src/router/endpoints.ts";
import { EndpointSliceType } from "../../../src/router/endpoints.ts";
import type { RunningRouter } from "../../../src/router/start.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { deleteNamespace, eventually, kubectl, kubectlStdin, realPoolManifest, testNamespace } from "../support/kube.ts";
import { realNode, testRouter } from "./support.ts";

/** The real node's bridge address: pods reach the host (and this test's router) there. */
const BRIDGE = "10.245.1.1";
const registry = () => process.env.BERTH_REGISTRY ?? `${BRIDGE}:5000`;

describe("router: a sleeping App wakes through its Service's ClusterIP", function () {
  this.timeout(240_000);
  let berth: RunningBerth;
  let router: RunningRouter;
  let ns = "";
  let pool = "";
  const app = "cipwake";
  const svc = `${app}-web`;
  const appKey = () => `${ns}/${app}`;

  const routerSlices = async (): Promise<EndpointSlice[]> => {
    const list = await berth.client.list<EndpointSlice>(EndpointSliceType, { namespace: ns, labelSelector: "endpointslice.kubernetes.io/managed-by=router.berth.dev" });
    return list.items;
  };
  /** Ready addresses of the slices kube-proxy follows for the Service, the router's included. */
  const serviceAddresses = async (): Promise<string[]> => {
    const list = await berth.client.list<EndpointSlice>(EndpointSliceType, { namespace: ns, labelSelector: `kubernetes.io/service-name=${svc}` });
    return list.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses)).sort();
  };
  const state = async () => (await berth.client.get<App>(BerthTypes.App, ns, app)).spec.state;
  const clusterIP = async () => kubectl("get", "svc", "-n", ns, svc, "-o", "jsonpath={.spec.clusterIP}");

  before(async function () {
    if (!(await realNode())) {
      process.stderr.write("      (skipped: no Ready node labelled berth.dev/node-group=real)\n");
      this.skip();
    }
    ns = await testNamespace("cipwake");
    pool = `cipwake-${ns.slice(-6)}`;
    berth = await startBerth();
    // Listening on the bridge too, and named there in the sleeping slices; an idle "minute" of
    // 2 s so that spec.idle.timeoutMinutes: 1 puts the App to sleep within the test.
    router = await testRouter(berth.client, { addresses: ["127.0.0.1", BRIDGE], activatorAddress: BRIDGE, idleMinuteMs: 2000, requestTimeoutMs: 120_000 }, undefined, true);
  });
  after(async () => {
    await router?.close();
    await berth?.stop();
    if (pool) await kubectl("delete", "pool", pool, "--ignore-not-found", "--wait=false").catch(() => undefined);
    if (ns) await deleteNamespace(ns);
  });

  it("sleeps with its Service pointing at the router; a pod's request to <svc>.<ns>.svc wakes it and gets the app's answer; then its own endpoints serve", async () => {
    await kubectlStdin(
      `${realPoolManifest(ns, pool)}
---
apiVersion: berth.dev/v1alpha1
kind: App
metadata: {name: ${app}, namespace: ${ns}}
spec:
  image: ${registry()}/berth/hello:1
  pool: ${pool}
  idle: {timeoutMinutes: 1}
  processes:
    - name: web
      replicas: 1
      ports: [{port: 8080}]
      healthCheck: {path: /healthz, periodSeconds: 1}
`,
      "apply",
      "-f",
      "-",
    );
    // Idle from the router's start (no request yet): put to sleep by the router.
    await eventually("the router put the App to sleep", async () => (await state()) === "Sleeping", 60_000);
    // Stays asleep once woken from here on: the test looks at the awake App afterwards.
    await berth.client.mergePatch(BerthTypes.App, ns, app, { spec: { idle: { timeoutMinutes: 600 } } });
    const slice = await eventually(
      "the router's slice is the Service's only ready endpoint",
      async () => {
        const [s] = await routerSlices();
        return s && (await serviceAddresses()).join() === BRIDGE ? s : undefined;
      },
      60_000,
    );
    expect(slice.metadata.name).to.equal(`${svc}-berth-router`);
    expect(slice.metadata.labels?.["kubernetes.io/service-name"]).to.equal(svc);
    expect(slice.ports).to.deep.equal([{ name: "http", port: router.port, protocol: "TCP" }]);
    expect(slice.endpoints?.map((e) => e.addresses)).to.deep.equal([[BRIDGE]]);
    expect(await kubectl("get", "deploy", "-n", ns, svc, "-o", "jsonpath={.spec.replicas}")).to.equal("0");

    // A one-off pod on the real node asks the Service by name (CoreDNS, then kube-proxy).
    const before = router.activity.get(appKey()).total;
    const overrides = JSON.stringify({
      spec: { nodeSelector: { "berth.dev/node-group": "real" }, tolerations: [{ key: "berth.dev/real-node", operator: "Exists", effect: "NoSchedule" }] },
    });
    // Python's urllib, not busybox's wget: the static busybox of the local images segfaults in wget.
    const fetchURL = `import urllib.request; print(urllib.request.urlopen("http://${svc}.${ns}.svc:8080/", timeout=150).read().decode(), end="")`;
    await kubectl("run", "-n", ns, "client", `--image=${registry()}/berth/python:3.11`, "--restart=Never", `--overrides=${overrides}`, "--command", "--", "python3", "-c", fetchURL);
    const phase = await eventually(
      "the client pod finished",
      async () => {
        const p = await kubectl("get", "pod", "-n", ns, "client", "-o", "jsonpath={.status.phase}");
        return p === "Succeeded" || p === "Failed" ? p : undefined;
      },
      180_000,
      500,
    );
    const answer = await kubectl("logs", "-n", ns, "client");
    expect(phase, answer).to.equal("Succeeded");
    expect(answer).to.match(new RegExp(` from ${svc}-`));
    expect(router.activity.get(appKey()).total).to.equal(before + 1);
    expect(await state()).to.equal("Running");

    // Awake: the router's slice goes, and the ClusterIP reaches the pod without the router.
    await eventually("the router's slice is gone", async () => (await routerSlices()).length === 0, 60_000);
    // kube-proxy programs the change in its next sync (iptables mode: at most once a second).
    await new Promise((r) => setTimeout(r, 2500));
    const addresses = await serviceAddresses();
    expect(addresses).to.have.length(1);
    expect(addresses[0]).to.not.equal(BRIDGE);
    const ip = await clusterIP();
    const viaService = await getURL(`http://${ip}:8080/`);
    expect(viaService.status).to.equal(200);
    expect(viaService.body).to.match(new RegExp(` from ${svc}-`));
    expect(router.activity.get(appKey()).total, "the router saw no request once the app's own endpoints serve").to.equal(before + 1);
  });

  it("put to sleep again, the slice comes back, and the host's request to the ClusterIP wakes it (Host is the IP)", async () => {
    await berth.client.mergePatch(BerthTypes.App, ns, app, { spec: { state: "Sleeping" } });
    await eventually("the router's slice is the only ready endpoint again", async () => (await serviceAddresses()).join() === BRIDGE, 90_000);
    await new Promise((r) => setTimeout(r, 2500)); // kube-proxy's next sync
    const before = router.activity.get(appKey()).total;
    const t0 = performance.now();
    const a = await getURL(`http://${await clusterIP()}:8080/`, 150_000);
    const ms = Math.round(performance.now() - t0);
    expect(a.status, a.body).to.equal(200);
    expect(a.body).to.match(new RegExp(` from ${svc}-`));
    expect(router.activity.get(appKey()).total).to.equal(before + 1);
    expect(await state()).to.equal("Running");
    process.stderr.write(`      (woken through the ClusterIP in ${ms} ms, pod start included)\n`);
    await eventually("the router's slice is gone", async () => (await routerSlices()).length === 0, 60_000);
  });
});

/**
 * A GET to a URL on a connection of its own (a pooled one would stay with the pod conntrack
 * chose before); the Host header is the URL's host, as any client sends it.
 */
function getURL(url: string, timeoutMs = 15_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs / 1000} s`)));
    req.on("error", reject);
  });
}
