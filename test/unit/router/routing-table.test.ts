import { expect } from "chai";
import type { App } from "../../../src/model/kinds.ts";
import type { EndpointSlice } from "../../../src/router/endpoints.ts";
import { RoutingTable } from "../../../src/router/routing-table.ts";

const app = (name: string, o: Partial<App["spec"]> = {}, created = "2026-01-01T00:00:00Z"): App => ({
  metadata: { name, namespace: "team", creationTimestamp: created },
  spec: { image: "busybox", processes: [{ name: "worker" }, { name: "web", ports: [{ port: 8080 }] }], ...o },
});

const slice = (service: string, ...ips: string[]): EndpointSlice => ({
  metadata: { name: `${service}-x`, namespace: "team", labels: { "kubernetes.io/service-name": service } },
  addressType: "IPv4",
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  ports: [{ name: "http", port: 8080 }],
});

describe("router: RoutingTable", () => {
  function table(slices: Record<string, EndpointSlice[]> = {}) {
    return new RoutingTable({ appsDomain: "berth.test", slicesOf: (key) => slices[key] ?? [], allowed: (a) => !a.startsWith("10.244.") });
  }

  it("routes <app>.<apps domain> and cnames to the web process's Service endpoints", () => {
    const slices = { "team/hello-web": [slice("hello-web", "10.245.1.2", "10.244.0.1")] };
    const t = table(slices);
    t.setApp(app("hello", { domains: ["www.hello.com"] }));
    const r = t.resolve("hello.berth.test");
    expect(r).to.include({ key: "team/hello", app: "hello", namespace: "team", service: "hello-web", process: "web" });
    expect(r?.endpoints.map((e) => e.key)).to.deep.equal(["10.245.1.2:8080"]);
    expect(r?.unreachable?.()).to.equal(1);
    expect(t.resolve("www.hello.com")?.key).to.equal("team/hello");
    expect(t.resolve("other.berth.test")).to.equal(undefined);
  });

  it("recomputes endpoints only when the Service's slices change", () => {
    const slices: Record<string, EndpointSlice[]> = { "team/hello-web": [slice("hello-web", "10.245.1.2")] };
    const t = table(slices);
    t.setApp(app("hello"));
    expect(t.resolve("hello.berth.test")?.endpoints).to.have.length(1);
    slices["team/hello-web"] = [slice("hello-web", "10.245.1.2", "10.245.1.3")];
    expect(t.resolve("hello.berth.test")?.endpoints).to.have.length(1); // cached
    t.serviceChanged("team/other-web");
    expect(t.resolve("hello.berth.test")?.endpoints).to.have.length(1);
    t.serviceChanged("team/hello-web");
    expect(t.resolve("hello.berth.test")?.endpoints).to.have.length(2);
    expect([...t.endpointKeys()]).to.deep.equal(["10.245.1.2:8080", "10.245.1.3:8080"]);
  });

  it("answers a Service's in-cluster names and ClusterIP (requests through a sleeping app's Service)", () => {
    const t = new RoutingTable({ appsDomain: "berth.test", slicesOf: () => [], serviceByClusterIP: (ip) => (ip === "10.96.0.10" ? "team/hello-web" : undefined) });
    t.setApp(app("hello"));
    for (const host of ["hello-web.team", "hello-web.team.svc", "hello-web.team.svc.cluster.local", "10.96.0.10"]) expect(t.resolve(host)?.key, host).to.equal("team/hello");
    expect(t.resolve("10.96.0.11")).to.equal(undefined);
    expect(t.resolve("hello-web.other.svc")).to.equal(undefined);
  });

  it("follows domain changes and deletes, and routes apps without a port to no endpoints", () => {
    const t = table();
    t.setApp(app("hello", { domains: ["a.com"] }));
    t.setApp(app("hello", { domains: ["b.com"] }));
    expect(t.resolve("a.com")).to.equal(undefined);
    expect(t.resolve("b.com")?.app).to.equal("hello");
    t.setApp(app("batch", { processes: [{ name: "worker" }] }));
    expect(t.resolve("batch.berth.test")).to.include({ service: "" });
    expect(t.resolve("batch.berth.test")?.endpoints).to.deep.equal([]);
    t.deleteApp(app("hello"));
    expect(t.resolve("b.com")).to.equal(undefined);
  });

  it("sends a host two apps claim to the oldest with ready endpoints, else the oldest", () => {
    const slices: Record<string, EndpointSlice[]> = { "team/hello-web": [slice("hello-web", "10.244.0.3")] };
    const t = table(slices);
    const older = app("hello", {}, "2026-01-01T00:00:00Z");
    const newer: App = { ...app("hello", {}, "2026-02-01T00:00:00Z"), metadata: { name: "hello", namespace: "team2", creationTimestamp: "2026-02-01T00:00:00Z" } };
    t.setApp(older);
    t.setApp(newer);
    expect(t.resolve("hello.berth.test")?.key).to.equal("team/hello"); // neither can answer: the oldest
    slices["team2/hello-web"] = [slice("hello-web", "10.245.1.5")];
    t.serviceChanged("team2/hello-web");
    expect(t.resolve("hello.berth.test")?.key).to.equal("team2/hello"); // only the newer one can
    slices["team/hello-web"] = [slice("hello-web", "10.245.1.4")];
    t.serviceChanged("team/hello-web");
    expect(t.resolve("hello.berth.test")?.key).to.equal("team/hello"); // both can: the oldest keeps it
  });

  it("wakes waiters when endpoints appear, and gives up when the signal aborts", async () => {
    const slices: Record<string, EndpointSlice[]> = {};
    const t = table(slices);
    t.setApp(app("sleepy"));
    const waiting = t.waitForEndpoints("team/sleepy", new AbortController().signal);
    slices["team/sleepy-web"] = [slice("sleepy-web", "10.245.1.9")];
    t.serviceChanged("team/sleepy-web");
    expect((await waiting).map((e) => e.key)).to.deep.equal(["10.245.1.9:8080"]);
    t.setApp(app("never"));
    const abort = new AbortController();
    const gaveUp = t.waitForEndpoints("team/never", abort.signal);
    abort.abort();
    expect(await gaveUp).to.deep.equal([]);
  });
});
