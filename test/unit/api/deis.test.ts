import { expect } from "chai";
import { fromDeisMemory, fromShares, isSshPublicKey } from "../../../src/api/deis/dialect.ts";
import { page } from "../../../src/api/deis/views.ts";

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

  it("converts Deis limits to Kubernetes quantities", () => {
    expect(fromDeisMemory("512M")).to.equal("512Mi");
    expect(fromDeisMemory("1g")).to.equal("1Gi");
    expect(fromDeisMemory("1048576")).to.equal("1048576");
    expect(fromDeisMemory("lots")).to.equal(undefined);
    expect(fromShares(1024)).to.equal("1000m");
    expect(fromShares(512)).to.equal("500m");
  });

  it("pages like Django REST Framework", () => {
    const items = [1, 2, 3, 4, 5];
    expect(page(items, { page_size: "2" }, "/v1/apps/")).to.deep.equal({ count: 5, next: "/v1/apps/?page=2&page_size=2", previous: null, results: [1, 2] });
    expect(page(items, { page_size: "2", page: "3" }, "/v1/apps/?page=3")).to.deep.equal({ count: 5, next: null, previous: "/v1/apps/?page=2&page_size=2", results: [5] });
  });
});
