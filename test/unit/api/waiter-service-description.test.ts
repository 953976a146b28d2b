// Waiter service descriptions and the Apps that run them, as pure functions. Expected values
// come from Waiter's sources: twosigma/waiter:waiter/src/waiter/settings.clj
// (:service-description-defaults, :messages :invalid-service-description),
// service_description.clj (token + x-waiter-* headers; run-as-user/permitted-user default to
// the requester), scheduler/kubernetes.clj (PORT, PORT0..n; port0 = base + 10 * (hash mod 100)).
import { expect } from "chai";
import type { ApiError } from "../../../src/api/errors.ts";
import { DESCRIPTION_DEFAULTS, INVALID_DESCRIPTION, effectiveDescription, headerParameters, serviceApp, serviceAppName, serviceDescription, servicePort } from "../../../src/api/waiter/service-description.ts";
import { contentHash } from "../../../src/reconcilers/desired/release.ts";

const token = { cmd: "python3 -m http.server $PORT0", "cmd-type": "shell", cpus: 0.1, mem: 64, version: "v1", env: { GREETING: "hi" }, "idle-timeout-mins": 1 };

const thrown = (f: () => unknown): ApiError => {
  try {
    f();
  } catch (e) {
    return e as ApiError;
  }
  throw new Error("did not throw");
};

describe("waiter service descriptions", () => {
  it("token parameters, overridden by x-waiter-* headers (numbers parsed, env merged); run-as-user and permitted-user default to the requester", () => {
    const d = serviceDescription(token, { "x-waiter-cpus": "0.5", "x-waiter-env-extra": "1", "x-waiter-queue-timeout": "5000", "x-waiter-token": "t", host: "h" }, "alice@example.com");
    expect(d).to.deep.equal({ ...token, cpus: 0.5, env: { GREETING: "hi", EXTRA: "1" }, "run-as-user": "alice@example.com", "permitted-user": "alice@example.com" });
    // "*" as run-as-user means the requester (run-as-requester).
    expect(serviceDescription({ ...token, "run-as-user": "*", "permitted-user": "*" }, {}, "bob")).to.include({ "run-as-user": "bob", "permitted-user": "*" });
    expect(headerParameters({ "x-waiter-min-instances": "2", "x-waiter-name": "n", "x-waiter-debug": "true", "x-waiter-metadata-team": "a" })).to.deep.equal({ "min-instances": 2, name: "n", metadata: { team: "a" } });
  });

  it("missing required parameters or bad values: 400 'Service description using waiter headers/token improperly configured'", () => {
    expect(INVALID_DESCRIPTION).to.equal("Service description using waiter headers/token improperly configured");
    const missing = thrown(() => serviceDescription(undefined, {}, "u"));
    expect([missing.status, missing.message]).to.deep.equal([400, INVALID_DESCRIPTION]);
    expect(missing.fields?.friendly).to.deep.equal(["cmd is required.", "cpus is required.", "mem is required.", "version is required."]);
    const bad = thrown(() => serviceDescription(token, { "x-waiter-cpus": "0" }, "u"));
    expect([bad.status, bad.message, bad.fields?.friendly]).to.deep.equal([400, INVALID_DESCRIPTION, ["cpus must be a positive number."]]);
  });

  it("defaults are Waiter's (settings.clj)", () => {
    expect(DESCRIPTION_DEFAULTS).to.include({ "health-check-url": "/status", "idle-timeout-mins": 30, "min-instances": 1, "max-instances": 500, "concurrency-level": 1, ports: 1 });
    expect(effectiveDescription({ cmd: "c", "idle-timeout-mins": 1 })).to.include({ cmd: "c", "idle-timeout-mins": 1, "health-check-url": "/status" });
  });

  it("the App: sh -c cmd with PORT and PORT0 on a port from the hash, readiness on health-check-url, min-instances replicas, the idle timeout", () => {
    const desc = serviceDescription({ ...token, ports: 2, "min-instances": 2, "health-check-url": "/ready" }, {}, "alice");
    const { name, serviceId, spec } = serviceApp(desc, "registry/berth/python:3.11");
    const port0 = servicePort(desc);
    expect(port0).to.be.within(31000, 31990);
    expect(port0 % 10).to.equal(0);
    expect(spec.image).to.equal("registry/berth/python:3.11");
    expect(spec.processes).to.deep.equal([
      { name: "web", command: ["/bin/sh", "-c", token.cmd], ports: [{ name: "http", port: port0 }], healthCheck: { path: "/ready", periodSeconds: 10, failureThreshold: 1 }, resources: { cpu: "100m", memory: "64Mi" }, replicas: 2 },
    ]);
    expect(spec.env).to.deep.equal([
      { name: "GREETING", value: "hi" },
      { name: "LOGNAME", value: "alice" },
      { name: "PORT", value: String(port0) },
      { name: "PORT0", value: String(port0) },
      { name: "PORT1", value: String(port0 + 1) },
      { name: "USER", value: "alice" },
    ]);
    expect(spec.idle).to.deep.equal({ timeoutMinutes: 1 });
    expect(name).to.equal(serviceAppName(serviceId)).and.match(/^w-[0-9a-f]{24}$/);
    // idle-timeout-mins 0: never idle.
    expect(serviceApp({ ...desc, "idle-timeout-mins": 0 }, "i").spec.idle).to.equal(undefined);
  });

  it("the service-id is the content hash the App's first Release will have: deterministic, no '.', changes with the description", () => {
    const desc = serviceDescription(token, {}, "alice");
    const { serviceId, spec } = serviceApp(desc, "img");
    // What the App reconciler hashes (src/reconcilers/app.ts): image, processes without replicas, env.
    const env = Object.fromEntries((spec.env ?? []).map((v) => [v.name, v.value ?? ""]));
    expect(serviceId).to.equal(contentHash({ image: spec.image, processes: spec.processes.map(({ replicas: _r, ...rest }) => rest), env }));
    expect(serviceId).to.match(/^[0-9a-f]{64}$/);
    expect(serviceApp(serviceDescription(token, {}, "alice"), "img").serviceId).to.equal(serviceId);
    expect(serviceApp(serviceDescription({ ...token, version: "v2" }, {}, "alice"), "img").serviceId).to.not.equal(serviceId);
    // Another requester (run-as-user): another service.
    expect(serviceApp(serviceDescription(token, {}, "bob"), "img").serviceId).to.not.equal(serviceId);
  });
});
