// The sleeping endpoint: when an App is reached through the router, and the slice that points
// its Service there.
import { expect } from "chai";
import type { App } from "../../../src/model/kinds.ts";
import type { Service } from "../../../src/router/sleeping-slice.ts";
import { desiredSleepingSlice, isRouterSlice, sameSlice, sleepingSliceName, wantsSleepingEndpoint } from "../../../src/router/sleeping-slice.ts";

const app = (spec: Partial<App["spec"]> = {}): App => ({ metadata: { name: "hello", namespace: "team", uid: "a1" }, spec: { image: "i", processes: [{ name: "web", ports: [{ port: 8080 }] }], ...spec } });
const service = (clusterIP = "10.96.0.10"): Service => ({
  metadata: { name: "hello-web", namespace: "team", uid: "s1" },
  spec: { clusterIP, ports: [{ name: "http", port: 8080, protocol: "TCP" }, { name: "admin", port: 9090 }] },
});

describe("router: sleeping slices (the activator pattern)", () => {
  it("an App that scales to zero and has no ready endpoint of its own is reached through the router; a Stopped one never", () => {
    expect(wantsSleepingEndpoint(app({ state: "Sleeping" }), 0)).to.equal(true);
    // Waking: Running again but no pod ready yet, so the slice stays until one is.
    expect(wantsSleepingEndpoint(app({ idle: { timeoutMinutes: 5 } }), 0)).to.equal(true);
    expect(wantsSleepingEndpoint(app({ idle: { timeoutMinutes: 5 } }), 1)).to.equal(false);
    expect(wantsSleepingEndpoint(app({ state: "Sleeping" }), 1)).to.equal(false);
    expect(wantsSleepingEndpoint(app({ state: "Stopped", idle: { timeoutMinutes: 5 } }), 0)).to.equal(false);
    // Without idle scaling a Running app with no pod is simply down, as before.
    expect(wantsSleepingEndpoint(app(), 0)).to.equal(false);
  });

  it("points every Service port, by name, at the router's port, owned by the Service and labelled for kube-proxy", () => {
    const s = desiredSleepingSlice(app({ state: "Sleeping" }), service(), { addresses: ["10.245.1.1", "fd00::1", "10.0.0.7"], port: 8088 });
    expect(s?.metadata).to.deep.include({ name: "hello-web-berth-router", namespace: "team" });
    expect(s?.metadata.labels).to.deep.equal({ "kubernetes.io/service-name": "hello-web", "endpointslice.kubernetes.io/managed-by": "router.berth.dev", "berth.dev/app": "hello" });
    expect(s?.metadata.ownerReferences).to.deep.equal([{ apiVersion: "v1", kind: "Service", name: "hello-web", uid: "s1" }]);
    expect(s?.addressType).to.equal("IPv4");
    // Addresses of the Service's family only, sorted: every replica computes the same slice.
    expect(s?.endpoints?.map((e) => e.addresses[0])).to.deep.equal(["10.0.0.7", "10.245.1.1"]);
    expect(s?.endpoints?.every((e) => e.conditions?.ready === true && e.conditions.serving === true)).to.equal(true);
    expect(s?.ports).to.deep.equal([
      { name: "http", port: 8088, protocol: "TCP" },
      { name: "admin", port: 8088, protocol: "TCP" },
    ]);
    expect(s && isRouterSlice(s)).to.equal(true);
    expect(desiredSleepingSlice(app(), service("fd00::10"), { addresses: ["fd00::1"], port: 8088 })?.addressType).to.equal("IPv6");
    expect(desiredSleepingSlice(app(), service("fd00::10"), { addresses: ["10.245.1.1"], port: 8088 })).to.equal(undefined);
  });

  it("names fit in 63 characters and equal content is recognized (no write)", () => {
    expect(sleepingSliceName("x".repeat(63))).to.have.length(63);
    const target = { addresses: ["10.245.1.1"], port: 8088 };
    const a = desiredSleepingSlice(app(), service(), target)!;
    expect(sameSlice({ ...a, metadata: { ...a.metadata, resourceVersion: "7" } }, a)).to.equal(true);
    expect(sameSlice(desiredSleepingSlice(app(), service(), { ...target, port: 8089 }), a)).to.equal(false);
    expect(sameSlice(undefined, a)).to.equal(false);
  });
});
