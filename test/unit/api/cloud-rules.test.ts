import { expect } from "chai";
import { ApiError } from "../../../src/api/errors.ts";
import { authorize } from "../../../src/api/cloud/http.ts";
import type { CloudCaller } from "../../../src/api/cloud/http.ts";
import { ipAccessListFrom, scalingFrom, validSource } from "../../../src/api/cloud/rules.ts";
import { offeredClass } from "../../../src/api/cloud/service-routes.ts";
import type { ServiceClass } from "../../../src/model/kinds.ts";

const refused = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(ApiError);
    expect((e as ApiError).status).to.equal(400);
    return (e as ApiError).message;
  }
  throw new Error("not refused");
};

describe("cloud API rules", () => {
  it("accepts memory bounds that are multiples of 12 from 24 to 720, min <= max", () => {
    expect(scalingFrom({ minTotalMemoryGb: 24, maxTotalMemoryGb: 720 }, undefined, "production")).to.deep.equal({ minTotalMemoryGb: 24, maxTotalMemoryGb: 720 });
    expect(refused(() => scalingFrom({ minTotalMemoryGb: 30 }, undefined, "production"))).to.match(/^minTotalMemoryGb: must be a multiple of 12/);
    expect(refused(() => scalingFrom({ minTotalMemoryGb: 12 }, undefined, "production"))).to.match(/^minTotalMemoryGb/);
    expect(refused(() => scalingFrom({ maxTotalMemoryGb: 732 }, undefined, "production"))).to.match(/^maxTotalMemoryGb/);
    expect(refused(() => scalingFrom({ maxTotalMemoryGb: 36 }, { minTotalMemoryGb: 48 }, "production"))).to.match(/must not be greater than maxTotalMemoryGb/);
    expect(refused(() => scalingFrom({ minTotalMemoryGb: 24 }, undefined, "development"))).to.match(/only for 'production'/);
    expect(refused(() => scalingFrom({ minTotalMemoryGb: "24" }, undefined, "production"))).to.match(/^minTotalMemoryGb: must be a whole number/);
  });

  it("needs idleTimeoutMinutes >= 5 and accepts numReplicas and idleScaling", () => {
    expect(refused(() => scalingFrom({ idleTimeoutMinutes: 4 }, undefined, "production"))).to.equal("idleTimeoutMinutes: must be >= 5 minutes");
    expect(scalingFrom({ idleTimeoutMinutes: 5, numReplicas: 3, idleScaling: false }, { minTotalMemoryGb: 24 }, "production")).to.deep.equal({ minTotalMemoryGb: 24, idleTimeoutMinutes: 5, numReplicas: 3, idleScaling: false });
    expect(refused(() => scalingFrom({ idleScaling: "yes" }, undefined, "production"))).to.match(/^idleScaling/);
  });

  it("replaces the IP access list, or adds and removes entries", () => {
    const cur = [{ source: "10.0.0.0/8", description: "office" }, { source: "203.0.113.7", description: "" }];
    expect(ipAccessListFrom([{ source: "0.0.0.0/0", description: "anywhere" }], cur)).to.deep.equal([{ source: "0.0.0.0/0", description: "anywhere" }]);
    expect(ipAccessListFrom({ add: [{ source: "192.0.2.0/24", description: "vpn" }], remove: [{ source: "10.0.0.0/8" }] }, cur)).to.deep.equal([
      { source: "203.0.113.7", description: "" },
      { source: "192.0.2.0/24", description: "vpn" },
    ]);
    expect(refused(() => ipAccessListFrom([{ source: "300.1.1.1" }], []))).to.match(/^ipAccessList\[0\]\.source/);
    expect(refused(() => ipAccessListFrom({ put: [] }, []))).to.match(/unknown field put/);
    expect(validSource("2001:db8::/32")).to.equal(true);
    expect(validSource("not-an-ip")).to.equal(false);
  });

  it("lets read-only keys read, developers change, admins also create and delete", () => {
    const as = (role: CloudCaller["role"]) => ({ role }) as CloudCaller;
    const status = (role: CloudCaller["role"], action: Parameters<typeof authorize>[1]) => {
      try {
        authorize(as(role), action);
        return 200;
      } catch (e) {
        return (e as ApiError).status;
      }
    };
    expect(["read", "write", "create", "delete"].map((a) => status("read-only", a as "read"))).to.deep.equal([200, 403, 403, 403]);
    expect(["read", "write", "create", "delete"].map((a) => status("developer", a as "read"))).to.deep.equal([200, 200, 403, 403]);
    expect(["read", "write", "create", "delete"].map((a) => status("admin", a as "read"))).to.deep.equal([200, 200, 200, 200]);
  });

  it("offers a team its own class (berth.dev/cloud-team) before the ones offered to all, first by name", () => {
    const cls = (name: string, labels?: Record<string, string>): ServiceClass => ({ metadata: { name, ...(labels ? { labels } : {}) }, spec: { image: "x", port: 1, plans: [{ name: "p" }] } });
    const all = [cls("postgres", { "berth.dev/cloud": "true" }), cls("clickhouse-lite", { "berth.dev/cloud": "true" }), cls("a-private", { "berth.dev/cloud": "true", "berth.dev/cloud-team": "payments" }), cls("redis")];
    expect(offeredClass(all, "payments")?.metadata.name).to.equal("a-private");
    expect(offeredClass(all, "search")?.metadata.name).to.equal("clickhouse-lite");
    expect(offeredClass([cls("redis")], "search")?.metadata.name).to.equal("redis"); // the only class there is
    expect(offeredClass([cls("a-private", { "berth.dev/cloud": "true", "berth.dev/cloud-team": "payments" })], "search")).to.equal(undefined);
    expect(offeredClass([], "search")).to.equal(undefined);
  });
});
