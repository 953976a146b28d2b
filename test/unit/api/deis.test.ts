import { expect } from "chai";
import { fromDeisMemory, fromShares, isSshPublicKey, personalTeam } from "../../../src/api/deis/dialect.ts";
import { domainProblem } from "../../../src/api/deis/domain-routes.ts";
import { djangoReason } from "../../../src/api/deis/http.ts";
import { fingerprint } from "../../../src/api/identity/ssh-keys.ts";
import { page } from "../../../src/api/deis/views.ts";
import { NAME } from "../../../src/api/identity/store.ts";

const blob = (type: string, rest = "key-material") => {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(rest)]).toString("base64");
};

describe("Deis helpers", () => {
  it("accepts well-formed SSH public keys only", () => {
    expect(isSshPublicKey(`ssh-ed25519 ${blob("ssh-ed25519")} me@laptop`)).to.equal(true);
    expect(isSshPublicKey(`ssh-rsa ${blob("ssh-rsa")}`)).to.equal(true);
    expect(isSshPublicKey(`ssh-rsa ${blob("ssh-ed25519")}`)).to.equal(false); // type mismatch
    expect(isSshPublicKey("ssh-rsa AAAA")).to.equal(false);
    expect(isSshPublicKey("not a key")).to.equal(false);
  });

  it("fingerprints keys as ssh-keygen -E md5 does", () => {
    expect(fingerprint(`ssh-rsa ${blob("ssh-rsa")} x`)).to.match(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  });

  it("converts Deis limits to Kubernetes quantities, with Deis 1.13's MB/KB/GB units", () => {
    // deis/deis:controller/api/serializers.py MEMLIMIT_MATCH = ^[0-9]+(MB|KB|GB|[BKMG])$ (any case)
    expect(fromDeisMemory("512M")).to.equal("512Mi");
    expect(fromDeisMemory("1024MB")).to.equal("1024Mi");
    expect(fromDeisMemory("64kb")).to.equal("64Ki");
    expect(fromDeisMemory("2GB")).to.equal("2Gi");
    expect(fromDeisMemory("1g")).to.equal("1Gi");
    expect(fromDeisMemory("100B")).to.equal("100");
    expect(fromDeisMemory("1048576")).to.equal("1048576");
    expect(fromDeisMemory("lots")).to.equal(undefined);
    expect(fromDeisMemory("5TB")).to.equal(undefined);
    expect(fromShares(1024)).to.equal("1000m");
    expect(fromShares(512)).to.equal("500m");
  });

  it("maps any Deis username onto a valid, distinct personal team", () => {
    expect(personalTeam("alice")).to.equal("user-alice");
    const odd = ["bob_smith", "Bob.Smith", "bob+smith@x", "__", "a".repeat(30)];
    const teams = odd.map(personalTeam);
    for (const t of teams) expect(NAME.test(t) && t.length <= 63, t).to.equal(true);
    expect(new Set(teams).size).to.equal(odd.length);
    expect(personalTeam("bob_smith")).to.match(/^user-bob-smith-[0-9a-f]{8}$/);
  });

  it("checks hostnames as Deis 1.13 does", () => {
    expect(domainProblem("www.example.com")).to.equal(undefined);
    expect(domainProblem("*.example.com")).to.equal("Adding a wildcard subdomain is currently not supported.");
    expect(domainProblem("not a domain")).to.equal("Hostname does not look valid.");
    expect(domainProblem("a--b.example.com")).to.equal("Hostname does not look valid.");
    expect(domainProblem("localhost1")).to.equal("Hostname does not look valid.");
    expect(domainProblem(`${"abc.".repeat(64)}com`)).to.equal("Hostname must be 255 characters or less.");
  });

  it("gives Django 1.x's upper-case reason phrases", () => {
    expect(djangoReason(404)).to.equal("NOT FOUND");
    expect(djangoReason(204)).to.equal("NO CONTENT");
    expect(djangoReason(409)).to.equal("CONFLICT");
  });

  it("pages like Django REST Framework", () => {
    const items = [1, 2, 3, 4, 5];
    expect(page(items, { page_size: "2" }, "/v1/apps/")).to.deep.equal({ count: 5, next: "/v1/apps/?page=2&page_size=2", previous: null, results: [1, 2] });
    expect(page(items, { page_size: "2", page: "3" }, "/v1/apps/?page=3")).to.deep.equal({ count: 5, next: null, previous: "/v1/apps/?page=2&page_size=2", results: [5] });
  });
});
