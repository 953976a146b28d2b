import { expect } from "chai";
import { loadConfig, parseDuration } from "../../../src/config.ts";

describe("config", () => {
  it("parses durations", () => {
    expect(parseDuration("15s", "x")).to.equal(15_000);
    expect(parseDuration("500ms", "x")).to.equal(500);
    expect(parseDuration("1.5m", "x")).to.equal(90_000);
    expect(() => parseDuration("15", "BERTH_X")).to.throw(/BERTH_X: "15" is not a duration/);
  });

  it("has defaults that work without any environment", () => {
    const c = loadConfig(["run"], {});
    expect(c).to.include({ controllers: true, api: true, apiPort: 8080, metricsPort: 8081, leaderElect: true });
    expect(c.leaseDurationMs).to.equal(15_000);
    expect(c.renewDeadlineMs).to.equal(10_000);
    expect(c.retryPeriodMs).to.equal(2_000);
  });

  it("turns parts off with flags and reads the environment", () => {
    const c = loadConfig(["run", "--no-api"], { BERTH_API_PORT: "9000", BERTH_LEADER_ELECT: "false", BERTH_POD_NAME: "p-1" });
    expect(c).to.include({ api: false, controllers: true, apiPort: 9000, leaderElect: false, identity: "p-1" });
  });

  it("reads the namespaces whose Secrets the controllers watch (cluster-wide when unset)", () => {
    expect(loadConfig(["run"], {}).secretNamespaces).to.deep.equal([]);
    expect(loadConfig(["run"], { BERTH_SECRET_NAMESPACES: "apps-a, apps-b,," }).secretNamespaces).to.deep.equal(["apps-a", "apps-b"]);
  });

  it("rejects bad values with the variable's name", () => {
    expect(() => loadConfig([], { BERTH_API_PORT: "eighty" })).to.throw(/BERTH_API_PORT/);
    expect(() => loadConfig([], { BERTH_LEADER_ELECT: "maybe" })).to.throw(/BERTH_LEADER_ELECT/);
    expect(() => loadConfig([], { BERTH_RENEW_DEADLINE: "20s" })).to.throw(/shorter than/);
  });
});
