// Scale from zero through the router (the Waiter issue): a request for a Sleeping App sets it
// Running, the controllers bring its pods back, and the request is held meanwhile. Forwarding
// the held request needs pods that really serve: on KWOK nodes (fake pod IPs the router never
// dials) the held request times out, and that part runs only on the real node.
import { expect } from "chai";
import type { App } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { silentLogger } from "../../../src/log.ts";
import { loadRouterConfig } from "../../../src/router/config.ts";
import type { RunningRouter } from "../../../src/router/start.ts";
import { startRouter } from "../../../src/router/start.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { deleteNamespace, eventually, kubectl, testNamespace } from "../support/kube.ts";
import { APPS_DOMAIN, REAL_POD_NETWORK, get } from "./support.ts";

describe("waiter: the router wakes a sleeping App", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  let router: RunningRouter;
  let ns = "";

  before(async () => {
    ns = await testNamespace("wake");
    berth = await startBerth();
    const config = { ...loadRouterConfig([], {}), port: 0, metricsPort: 0, appsDomain: APPS_DOMAIN, upstreamNetworks: [REAL_POD_NETWORK], accessLog: false, connectTimeoutMs: 1000, requestTimeoutMs: 3000 };
    router = await startRouter({ client: berth.client, log: silentLogger(), wake: true }, config);
  });
  after(async () => {
    await router?.close();
    await berth?.stop();
    await deleteNamespace(ns);
  });

  it("a request for a Sleeping App sets it Running and its pods come back; a Stopped App is not woken", async () => {
    const mk = (name: string, state: "Sleeping" | "Stopped"): App => ({
      apiVersion: "berth.dev/v1alpha1",
      kind: "App",
      metadata: { name, namespace: ns },
      spec: { image: "busybox", state, idle: { timeoutMinutes: 1 }, processes: [{ name: "web", replicas: 1, ports: [{ port: 8080 }] }] },
    });
    // Names of their own: a host two Apps claim goes to the older one (router.test.ts has a "sleepy").
    const [sleepy, stopped] = [`sleepy-${ns}`, `stopped-${ns}`];
    await berth.client.create(BerthTypes.App, mk(sleepy, "Sleeping"));
    await berth.client.create(BerthTypes.App, mk(stopped, "Stopped"));
    // The router knows the app once its informer saw it: until then the host is unknown (404).
    await eventually("route", async () => (await get(router.port, `${stopped}.${APPS_DOMAIN}`)).status === 503);
    const held = await get(router.port, `${sleepy}.${APPS_DOMAIN}`);
    // Held until the request timeout (no pod the router may dial on KWOK nodes), not refused at once.
    expect(held.status, held.body).to.not.equal(404);
    await eventually("woken: Running", async () => (await berth.client.get<App>(BerthTypes.App, ns, sleepy)).spec.state === "Running", 30_000);
    await eventually("deployment scaled up", async () => (await kubectl("get", "deploy", "-n", ns, "-l", `berth.dev/app=${sleepy}`, "-o", "jsonpath={.items[0].spec.replicas}")) === "1");
    expect((await berth.client.get<App>(BerthTypes.App, ns, stopped)).spec.state).to.equal("Stopped");
  });
});
