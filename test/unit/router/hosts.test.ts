import { expect } from "chai";
import { HostIndex, appHosts, normalizeHost } from "../../../src/router/hosts.ts";

describe("router: host names", () => {
  it("normalizes Host headers: case, port, trailing dot, IPv6 literals", () => {
    expect(normalizeHost("Hello.Berth.Localhost:8088")).to.equal("hello.berth.localhost");
    expect(normalizeHost("hello.example.com.")).to.equal("hello.example.com");
    expect(normalizeHost("[::1]:8088")).to.equal("[::1]");
    expect(normalizeHost("")).to.equal(undefined);
    expect(normalizeHost(undefined)).to.equal(undefined);
  });

  it("gives an app its name under the apps domain and its own domains, once each", () => {
    expect(appHosts("hello", ["www.Example.com", "www.example.com."], "berth.localhost")).to.deep.equal(["hello.berth.localhost", "www.example.com"]);
    expect(appHosts("hello", undefined, "apps.example.net")).to.deep.equal(["hello.apps.example.net"]);
  });
});

describe("router: HostIndex", () => {
  it("finds apps by exact host, then by a wildcard one level up", () => {
    const idx = new HostIndex();
    idx.set("ns/a", ["a.d", "www.a.com"], "1");
    idx.set("ns/b", ["b.d", "*.b.com"], "2");
    expect(idx.lookup("a.d")).to.equal("ns/a");
    expect(idx.lookup("www.a.com")).to.equal("ns/a");
    expect(idx.lookup("shop.b.com")).to.equal("ns/b");
    expect(idx.lookup("x.shop.b.com")).to.equal(undefined);
    expect(idx.lookup("c.d")).to.equal(undefined);
  });

  it("replaces an app's hosts on update and forgets them on delete", () => {
    const idx = new HostIndex();
    idx.set("ns/a", ["old.a.com"], "1");
    idx.set("ns/a", ["new.a.com"], "1");
    expect(idx.lookup("old.a.com")).to.equal(undefined);
    expect(idx.lookup("new.a.com")).to.equal("ns/a");
    idx.delete("ns/a");
    expect(idx.lookup("new.a.com")).to.equal(undefined);
  });

  it("keeps a contested host with the older app, and hands it over when that one goes", () => {
    const idx = new HostIndex();
    idx.set("team2/hello", ["hello.d"], "2026-02-01T00:00:00Z team2/hello");
    idx.set("team1/hello", ["hello.d"], "2026-01-01T00:00:00Z team1/hello");
    expect(idx.lookup("hello.d")).to.equal("team1/hello");
    expect(idx.contested()).to.deep.equal([{ host: "hello.d", winner: "team1/hello", losers: ["team2/hello"] }]);
    idx.delete("team1/hello");
    expect(idx.lookup("hello.d")).to.equal("team2/hello");
    expect(idx.contested()).to.deep.equal([]);
  });
});
