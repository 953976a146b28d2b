import { expect } from "chai";
import type { FastifyRequest } from "fastify";
import type { Principal } from "../../../src/api/identity/principal.ts";
import { memoryQuantity } from "../../../src/api/tsuru/app-routes.ts";
import { requestVersion, teamOrOnly, versionAtLeast } from "../../../src/api/tsuru/http.ts";
import { appPlanView, internalAddresses } from "../../../src/api/tsuru/views.ts";
import type { App, Plan } from "../../../src/model/kinds.ts";

const principal = (...teams: string[]): Principal => ({ name: "u", admin: false, teams: new Set(teams), tokenHash: "h" });
const req = (originalUrl: string) => ({ originalUrl }) as FastifyRequest;
const app: App = {
  metadata: { name: "shop", namespace: "pool-a", uid: "u1" },
  spec: {
    image: "nginx",
    processes: [
      { name: "web", ports: [{ port: 8888 }], resources: { memory: "256Mi", cpu: "500m" } },
      { name: "worker", resources: { memory: "256Mi", cpu: "500m" } },
    ],
  },
};
const plan: Plan = { metadata: { name: "small" }, spec: { cpu: "100m", memory: "128Mi", default: true } };

describe("tsuru helpers", () => {
  it("takes an empty team field as the caller's only team, and refuses to guess among several", () => {
    expect(teamOrOnly(principal("a"), "")).to.equal("a");
    expect(teamOrOnly(principal("a"), undefined)).to.equal("a");
    expect(teamOrOnly(principal("a", "b"), " b ")).to.equal("b");
    // tsuru/tsuru:permission/permission.go ErrTooManyTeams
    expect(() => teamOrOnly(principal("a", "b"), "")).to.throw("You must provide a team to execute this action.");
    expect(() => teamOrOnly(principal(), "")).to.throw("You must provide a team to execute this action.");
  });

  it("reads the API version from the path the client sent; unversioned paths get the newest", () => {
    expect(requestVersion(req("/1.24/apps/x/certificate"))).to.deep.equal([1, 24]);
    expect(requestVersion(req("/tsuru/apps/x/certificate"))).to.equal(undefined);
    expect(versionAtLeast(req("/1.24/apps/x/certificate"), 1, 24)).to.equal(true);
    expect(versionAtLeast(req("/1.2/apps/x/certificate"), 1, 24)).to.equal(false);
    expect(versionAtLeast(req("/2.0/apps/x/certificate"), 1, 24)).to.equal(true);
    expect(versionAtLeast(req("/tsuru/apps/x/certificate"), 1, 24)).to.equal(true);
  });

  it("shows the plan with the app's overrides, and where each process is reached", () => {
    expect(appPlanView(plan, app)).to.deep.equal({ name: "small", memory: 128 * 1024 ** 2, cpumilli: 100, default: true, override: { memory: 256 * 1024 ** 2, cpumilli: 500, cpuBurst: null } });
    const plain: App = { ...app, spec: { ...app.spec, processes: [{ name: "web" }] } };
    expect(appPlanView(plan, plain).override).to.deep.equal({ memory: null, cpumilli: null, cpuBurst: null });
    // tsuru/tsuru:types/app/app.go AppInternalAddress{Domain, Protocol, Port, Version, Process}
    expect(internalAddresses(app)).to.deep.equal([{ Domain: "shop-web.pool-a.svc.cluster.local", Protocol: "TCP", Port: 8888, Version: "", Process: "web" }]);
  });

  it("writes plan-override memory as a Kubernetes quantity", () => {
    expect(memoryQuantity(256 * 1024 ** 2)).to.equal("256Mi");
    expect(memoryQuantity(2 * 1024 ** 3)).to.equal("2Gi");
    expect(memoryQuantity(1000)).to.equal("1000");
  });
});
