import { expect } from "chai";
import { hashPassword, newToken, tokenHash, verifyPassword } from "../../../src/api/identity/secrets.ts";

describe("credentials", () => {
  it("hashes passwords with a salt and verifies them", async () => {
    const a = await hashPassword("s3cret!");
    const b = await hashPassword("s3cret!");
    expect(a).to.match(/^scrypt\$16384\$8\$1\$/);
    expect(a).to.not.equal(b);
    expect(a).to.not.contain("s3cret!");
    expect(await verifyPassword("s3cret!", a)).to.equal(true);
    expect(await verifyPassword("s3cret?", a)).to.equal(false);
    expect(await verifyPassword("s3cret!", "plain")).to.equal(false);
  });

  it("makes unguessable tokens and stores only their hash", () => {
    const t = newToken();
    expect(t).to.match(/^[0-9a-f]{64}$/);
    expect(newToken()).to.not.equal(t);
    expect(tokenHash(t)).to.match(/^[0-9a-f]{64}$/).and.not.equal(t);
    expect(tokenHash(t)).to.equal(tokenHash(t));
  });
});
