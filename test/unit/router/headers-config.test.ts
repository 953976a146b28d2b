import { expect } from "chai";
import { loadRouterConfig, networkList } from "../../../src/router/config.ts";
import { endToEndHeaders, upstreamRequestHeaders } from "../../../src/router/headers.ts";

describe("router: headers", () => {
  it("drops hop-by-hop headers and those the Connection header names, keeps the rest", () => {
    const out = endToEndHeaders({ connection: "keep-alive, X-Secret", "keep-alive": "timeout=5", "x-secret": "s", upgrade: "h2c", "content-type": "text/plain", "transfer-encoding": "chunked" });
    expect(out).to.deep.equal({ "content-type": "text/plain", "transfer-encoding": "chunked" });
  });

  it("adds X-Forwarded-For/-Proto/-Host, appending to what a proxy in front already set", () => {
    const first = upstreamRequestHeaders({ host: "hello.berth.localhost:8088" }, { remoteAddress: "::ffff:127.0.0.1", encrypted: false });
    expect(first).to.include({ host: "hello.berth.localhost:8088", "x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http", "x-forwarded-host": "hello.berth.localhost:8088" });
    const behindIngress = upstreamRequestHeaders(
      { host: "hello.example.com", "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https", "x-forwarded-host": "www.example.com" },
      { remoteAddress: "10.0.0.9", encrypted: false },
    );
    expect(behindIngress).to.include({ "x-forwarded-for": "203.0.113.7, 10.0.0.9", "x-forwarded-proto": "https", "x-forwarded-host": "www.example.com" });
  });
});

describe("router: configuration", () => {
  it("defaults to 127.0.0.1:8088, metrics on 8089, apps under berth.localhost", () => {
    const c = loadRouterConfig([], {});
    expect(c).to.deep.include({ addresses: ["127.0.0.1"], port: 8088, metricsPort: 8089, appsDomain: "berth.localhost", retries: 2, accessLog: true, upstreamNetworks: [] });
    expect(c.requestTimeoutMs).to.equal(60_000);
  });

  it("reads the environment, and flags win over it", () => {
    const env = { BERTH_ROUTER_PORT: "9000", BERTH_ROUTER_ADDRESSES: "127.0.0.1, 10.245.1.1", BERTH_APPS_DOMAIN: "Apps.Example.com.", BERTH_ROUTER_REQUEST_TIMEOUT: "5s", BERTH_ROUTER_UPSTREAM_CIDRS: "10.245.0.0/16" };
    expect(loadRouterConfig([], env)).to.deep.include({ port: 9000, addresses: ["127.0.0.1", "10.245.1.1"], appsDomain: "apps.example.com", requestTimeoutMs: 5000, upstreamNetworks: ["10.245.0.0/16"] });
    expect(loadRouterConfig(["--port", "7000", "--listen", "0.0.0.0", "--apps-domain=x.test"], env)).to.deep.include({ port: 7000, addresses: ["0.0.0.0"], appsDomain: "x.test" });
  });

  it("rejects bad values naming the variable or flag", () => {
    expect(() => loadRouterConfig(["--port", "http"], {})).to.throw(/--port/);
    expect(() => loadRouterConfig(["--listen", "localhost"], {})).to.throw(/--listen/);
    expect(() => loadRouterConfig([], { BERTH_ROUTER_UPSTREAM_CIDRS: "10.245.0.0/33" })).to.throw(/BERTH_ROUTER_UPSTREAM_CIDRS: "10.245.0.0\/33"/);
    expect(() => loadRouterConfig([], { BERTH_APPS_DOMAIN: "bad_domain" })).to.throw(/BERTH_APPS_DOMAIN/);
    expect(() => loadRouterConfig([], { BERTH_ROUTER_ACCESS_LOG: "sometimes" })).to.throw(/BERTH_ROUTER_ACCESS_LOG/);
  });

  it("reads where sleeping Services point and the length of an idle minute", () => {
    expect(loadRouterConfig([], {})).to.deep.include({ idleMinuteMs: 60_000 });
    expect(loadRouterConfig([], {}).activatorAddress).to.equal(undefined);
    const env = { BERTH_ROUTER_ACTIVATOR_ADDRESS: "10.245.1.1", BERTH_ROUTER_ACTIVATOR_SERVICE: "berth/berth-router", BERTH_ROUTER_ACTIVATOR_PORT: "8088", BERTH_ROUTER_IDLE_MINUTE: "2s" };
    expect(loadRouterConfig([], env)).to.deep.include({ activatorAddress: "10.245.1.1", activatorService: "berth/berth-router", activatorPort: 8088, idleMinuteMs: 2000 });
    expect(() => loadRouterConfig([], { BERTH_ROUTER_ACTIVATOR_ADDRESS: "router" })).to.throw(/BERTH_ROUTER_ACTIVATOR_ADDRESS/);
    expect(() => loadRouterConfig([], { BERTH_ROUTER_ACTIVATOR_SERVICE: "berth-router" })).to.throw(/namespace\/name/);
  });

  it("matches upstream addresses against CIDRs", () => {
    const nets = networkList(["10.245.0.0/16", "fd00::/8"]);
    expect(nets.check("10.245.1.7", "ipv4")).to.equal(true);
    expect(nets.check("10.244.0.7", "ipv4")).to.equal(false);
    expect(nets.check("fd00::1", "ipv6")).to.equal(true);
  });
});
