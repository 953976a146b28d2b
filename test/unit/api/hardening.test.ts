// Pure pieces of the hardening work: read-your-writes ordering, JSON nesting limits, login
// throttling, type-checked form values, credentials kept out of workload specs.
import { expect } from "chai";
import { atLeast } from "../../../src/api/read-your-writes.ts";
import { LoginThrottle } from "../../../src/api/identity/throttle.ts";
import { jsonDepth, MAX_JSON_DEPTH } from "../../../src/api/server.ts";
import { list, str } from "../../../src/api/tsuru/http.ts";
import { ApiError } from "../../../src/api/errors.ts";
import { fromKubernetes } from "../../../src/api/errors.ts";
import { KubeApiError } from "../../../src/kube/client.ts";
import { desiredInstanceObjects } from "../../../src/reconcilers/service-instance.ts";
import type { ServiceClass, ServiceInstance } from "../../../src/model/kinds.ts";

describe("read-your-writes: at least this resourceVersion", () => {
  it("accepts the written version and any later one, compares numerically", () => {
    expect(atLeast("100", "100")).to.equal(true);
    expect(atLeast("101", "100")).to.equal(true);
    expect(atLeast("99", "100")).to.equal(false);
    expect(atLeast("1000", "999")).to.equal(true); // not a string comparison
    expect(atLeast(undefined, "1")).to.equal(false);
  });
  it("falls back to equality for versions that are not numbers", () => {
    expect(atLeast("abc", "abc")).to.equal(true);
    expect(atLeast("abd", "abc")).to.equal(false);
  });
});

describe("JSON nesting depth", () => {
  it("measures depth without recursion, even 100,000 levels deep", () => {
    expect(jsonDepth("x")).to.equal(0);
    expect(jsonDepth({ a: [1, { b: 2 }] })).to.equal(3);
    const deep = JSON.parse("[".repeat(100_000) + "]".repeat(100_000)) as unknown;
    expect(jsonDepth(deep, MAX_JSON_DEPTH)).to.equal(MAX_JSON_DEPTH + 1);
  });
});

describe("login throttle", () => {
  it("refuses with 429 after the limit of failures in the window, per key, and forgets after it", () => {
    let now = 0;
    const t = new LoginThrottle(3, 1000, () => now);
    for (let i = 0; i < 3; i++) {
      t.check(["a", "ip"]);
      t.failed(["a", "ip"]);
    }
    expect(() => t.check(["a"])).to.throw(ApiError).with.property("status", 429);
    expect(() => t.check(["b"])).to.not.throw();
    now = 1001;
    expect(() => t.check(["a", "ip"])).to.not.throw();
  });
  it("clears an account's failures on success", () => {
    const t = new LoginThrottle(2, 1000, () => 0);
    t.failed(["a"]);
    t.succeeded("a");
    t.failed(["a"]);
    expect(() => t.check(["a"])).to.not.throw();
  });
});

describe("tsuru form values", () => {
  it("takes strings, numbers and booleans, refuses objects and arrays of objects with 400", () => {
    expect(str({ a: "x" }, "a")).to.equal("x");
    expect(str({ a: 3 as unknown as string }, "a")).to.equal("3");
    expect(str({ a: [] }, "a")).to.equal(undefined);
    expect(() => str({ a: {} as unknown as string }, "a")).to.throw(ApiError).with.property("status", 400);
    expect(() => list({ a: [{}] as unknown as string[] }, "a")).to.throw(ApiError).with.property("status", 400);
  });
});

describe("Kubernetes errors", () => {
  it("keep their 4xx meaning (Berth's client puts the code in .status)", () => {
    expect(fromKubernetes(new KubeApiError(422, "Invalid", "bad"), "app").status).to.equal(400);
    expect(fromKubernetes(new KubeApiError(404, "NotFound", "gone"), "app").status).to.equal(404);
    expect(fromKubernetes(new KubeApiError(409, "Conflict", "x"), "app").status).to.equal(409);
    expect(fromKubernetes(new Error("ECONNREFUSED"), "app").status).to.equal(503);
    const own = new ApiError(423, "locked");
    expect(fromKubernetes(own, "app")).to.equal(own);
  });
});

describe("service instance workloads", () => {
  it("never carry a credential as a literal value: secretKeyRef and $(VAR) references instead", () => {
    const si = { metadata: { name: "db", namespace: "ns", uid: "u1" }, spec: { serviceClass: "pg", plan: "small" } } as unknown as ServiceInstance;
    const cls = { metadata: { name: "pg" }, spec: { image: "pg:16", port: 5432, plans: [{ name: "small" }], env: [{ name: "POSTGRES_PASSWORD", value: "$(PASSWORD)" }, { name: "URL", value: "pg://$(USERNAME):$(PASSWORD)@x" }] } } as unknown as ServiceClass;
    const creds = { HOST: "db.ns.svc", PORT: "5432", USERNAME: "db", PASSWORD: "p4ssw0rd-very-secret", INSTANCE: "db" };
    const text = JSON.stringify(desiredInstanceObjects(si, cls, creds));
    expect(text).to.not.include("p4ssw0rd-very-secret");
    expect(text).to.include('"secretKeyRef":{"name":"db-credentials","key":"PASSWORD"}');
    expect(text).to.include("pg://$(BERTH_CREDENTIAL_USERNAME):$(BERTH_CREDENTIAL_PASSWORD)@x");
  });
});
