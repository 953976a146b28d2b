import { expect } from "chai";
import type { EndpointSlice } from "../../../src/router/endpoints.ts";
import { endpointKey, pickEndpoint, readyEndpoints } from "../../../src/router/endpoints.ts";

const slice = (endpoints: EndpointSlice["endpoints"], ports: EndpointSlice["ports"] = [{ name: "http", port: 8080 }], addressType: EndpointSlice["addressType"] = "IPv4"): EndpointSlice => ({
  metadata: { name: "s", namespace: "ns", labels: { "kubernetes.io/service-name": "hello-web" } },
  addressType,
  endpoints,
  ports,
});

describe("router: ready endpoints from EndpointSlices", () => {
  it("keeps ready endpoints (ready unset counts as ready), drops not-ready and terminating ones", () => {
    const eps = readyEndpoints(
      [
        slice([
          { addresses: ["10.245.1.3"], conditions: { ready: true }, targetRef: { name: "pod-3" } },
          { addresses: ["10.245.1.2"], conditions: {} },
          { addresses: ["10.245.1.4"], conditions: { ready: false, serving: true, terminating: true } },
        ]),
      ],
      "http",
    );
    expect(eps.map((e) => e.key)).to.deep.equal(["10.245.1.2:8080", "10.245.1.3:8080"]);
    expect(eps[1]?.pod).to.equal("pod-3");
  });

  it("uses the named port, else the first port, and skips slices without ports or with FQDNs", () => {
    const two = slice([{ addresses: ["10.0.0.1"] }], [{ name: "metrics", port: 9090 }, { name: "http", port: 8080 }]);
    expect(readyEndpoints([two], "http").map((e) => e.port)).to.deep.equal([8080]);
    expect(readyEndpoints([two], "grpc").map((e) => e.port)).to.deep.equal([9090]);
    expect(readyEndpoints([slice([{ addresses: ["10.0.0.1"] }], null)], "http")).to.deep.equal([]);
    expect(readyEndpoints([slice([{ addresses: ["db.example.com"] }], undefined, "FQDN")], "http")).to.deep.equal([]);
  });

  it("merges slices without duplicates, brackets IPv6, and filters by the allowed networks", () => {
    const a = slice([{ addresses: ["10.245.1.2"] }, { addresses: ["10.244.0.9"] }]);
    const b = slice([{ addresses: ["10.245.1.2"] }, { addresses: ["fd00::5"] }]);
    expect(readyEndpoints([a, b], "http").map((e) => e.key)).to.deep.equal(["10.244.0.9:8080", "10.245.1.2:8080", "[fd00::5]:8080"]);
    const onlyReal = readyEndpoints([a, b], "http", (addr) => addr.startsWith("10.245."));
    expect(onlyReal.map((e) => e.key)).to.deep.equal(["10.245.1.2:8080"]);
    expect(endpointKey("fd00::5", 80)).to.equal("[fd00::5]:80");
  });
});

describe("router: round robin", () => {
  const eps = ["a", "b", "c"].map((k) => ({ address: k, port: 1, key: k }));

  it("walks the endpoints in turn with the cursor", () => {
    expect([0, 1, 2, 3, 4].map((c) => pickEndpoint(eps, c)?.key)).to.deep.equal(["a", "b", "c", "a", "b"]);
  });

  it("skips endpoints already tried by this request, and gives up when all were", () => {
    expect(pickEndpoint(eps, 0, new Set(["a"]))?.key).to.equal("b");
    expect(pickEndpoint(eps, 2, new Set(["c", "a"]))?.key).to.equal("b");
    expect(pickEndpoint(eps, 1, new Set(["a", "b", "c"]))).to.equal(undefined);
    expect(pickEndpoint([], 0)).to.equal(undefined);
  });
});
