// The pure parts of Waiter tokens: ETag hash, validation messages, unknown keys, If-Match.
// Messages are Waiter's own (twosigma/waiter:waiter/src/waiter/service_description.clj
// validate-schema; waiter/src/waiter/token.clj handle-post-token-request).
import { expect } from "chai";
import { ifMatchHolds, tokenData, tokenHash, unsupportedKeys, validateParameters, withIsoTimes } from "../../../src/api/waiter/token-data.ts";

describe("waiter token data", () => {
  it("hash: equal data, equal ETag whatever the key order; E- prefix; previous ignored; none for absent or deleted", () => {
    const a = tokenHash({ cmd: "x", cpus: 1, env: { B: "2", A: "1" }, owner: "u" });
    expect(a).to.match(/^E-[0-9a-f]{32}$/);
    expect(tokenHash({ owner: "u", env: { A: "1", B: "2" }, cpus: 1, cmd: "x", previous: { cmd: "y" } })).to.equal(a);
    expect(tokenHash({ cmd: "x", cpus: 2, env: { B: "2", A: "1" }, owner: "u" })).to.not.equal(a);
    expect(tokenHash(undefined)).to.equal(undefined);
    expect(tokenHash({})).to.equal(undefined);
    expect(tokenHash({ cmd: "x", deleted: true })).to.equal(undefined);
  });

  it("token data carries metadata; include=metadata shows times as ISO-8601, in previous too", () => {
    const d = tokenData({ token: "t", owner: "u", description: { cmd: "c" }, lastUpdateTime: "2026-11-23T18:00:00.000Z", lastUpdateUser: "u", root: "r" });
    expect(d).to.deep.equal({ cmd: "c", owner: "u", "last-update-time": Date.parse("2026-11-23T18:00:00.000Z"), "last-update-user": "u", root: "r" });
    expect(withIsoTimes({ ...d, previous: { "last-update-time": 0 } })).to.deep.include({ "last-update-time": "2026-11-23T18:00:00.000Z", previous: { "last-update-time": "1970-01-01T00:00:00.000Z" } });
  });

  it("validation: Waiter's message per bad field; partial tokens are fine", () => {
    expect(validateParameters({ cmd: "x" })).to.equal(undefined);
    expect(validateParameters({})).to.equal(undefined);
    expect(validateParameters({ cpus: 0 })).to.equal("cpus must be a positive number.");
    expect(validateParameters({ cpus: "1" })).to.equal("cpus must be a positive number.");
    expect(validateParameters({ mem: -1 })).to.equal("mem must be a positive number.");
    expect(validateParameters({ cmd: "" })).to.equal("cmd must be a non-empty string.");
    expect(validateParameters({ version: 3 })).to.equal("version must be a non-empty string.");
    expect(validateParameters({ cmd: "", cpus: 0 })).to.equal("cmd must be a non-empty string.\ncpus must be a positive number.");
    expect(validateParameters({ "idle-timeout-mins": 43201 })).to.equal("idle-timeout-mins must be an integer in the range [0, 43200].");
    expect(validateParameters({ "min-instances": 3, "max-instances": 2 })).to.equal("min-instances (3) must be less than or equal to max-instances (2)");
    expect(validateParameters({ "cmd-type": "java" })).to.equal("Command type java is not supported");
  });

  it("unknown keys in Waiter's shape", () => {
    expect(unsupportedKeys({ token: "t", cmd: "c", owner: "u" })).to.equal(undefined);
    expect(unsupportedKeys({ token: "t", zed: 1, abc: 2 })).to.equal('Unsupported key(s) in token: ["abc" "zed"]');
  });

  it("If-Match: absent always holds; empty holds only for no (or a deleted) token; else the current hash", () => {
    const cur = { cmd: "x", owner: "u" };
    expect(ifMatchHolds(undefined, cur)).to.equal(true);
    expect(ifMatchHolds("", undefined)).to.equal(true);
    expect(ifMatchHolds("", { ...cur, deleted: true })).to.equal(true);
    expect(ifMatchHolds("", cur)).to.equal(false);
    expect(ifMatchHolds(tokenHash(cur), cur)).to.equal(true);
    expect(ifMatchHolds("E-stale", cur)).to.equal(false);
  });
});
