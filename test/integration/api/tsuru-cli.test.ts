// The real tsuru CLI (1.34) against Berth, when the binary is at hand: $BERTH_TSURU_CLI, or
// ~/.cache/berth/bin/tsuru. Skipped, with the reason printed, when it is not (the Go module
// proxy does not serve github.com/tsuru/tsuru-client here, so it cannot be built offline).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { userObjectName } from "../../../src/api/identity/store.ts";
import type { User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";

const run = promisify(execFile);
const binary = process.env.BERTH_TSURU_CLI ?? join(homedir(), ".cache/berth/bin/tsuru");

describe("tsuru CLI 1.34 against Berth", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [team, pool, app] = [`ct-${id}`, `cp-${id}`, `cli-${id}`];
  const home = mkdtempSync(join(tmpdir(), "berth-tsuru-cli-"));
  let env: NodeJS.ProcessEnv = {};
  const tsuru = async (...args: string[]) => (await run(binary, args, { env, timeout: 120_000 })).stdout;

  before(async function () {
    if (!existsSync(binary)) {
      process.stderr.write(`    (skipped: no tsuru CLI at ${binary}; set BERTH_TSURU_CLI to run these)\n`);
      this.skip();
    }
    berth = await startBerth({ api: true });
    const email = `cli-${id}@example.com`;
    await fetch(`${berth.apiURL}/1.0/users`, { method: "POST", body: new URLSearchParams({ email, password: "s3cret-pw" }) });
    const login = await fetch(`${berth.apiURL}/1.0/auth/login`, { method: "POST", body: new URLSearchParams({ email, password: "s3cret-pw" }) });
    const { token } = (await login.json()) as { token: string };
    env = { PATH: process.env.PATH, HOME: home, TSURU_TARGET: berth.apiURL, TSURU_TOKEN: token };
    const form = (o: Record<string, string>) => ({ method: "POST", headers: { Authorization: `bearer ${token}` }, body: new URLSearchParams(o) });
    expect((await fetch(`${berth.apiURL}/1.0/teams`, form({ name: team }))).status).to.equal(201);
    await berth.client.mergePatch<User>(BerthTypes.User, undefined, userObjectName(email), { spec: { admin: true } });
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${berth.apiURL}/1.0/pools`, form({ name: pool, public: "true", default: "false" }))).status).to.equal(201);
  });
  after(async () => {
    await berth?.stop();
  });

  it("adds the target and runs the everyday commands unchanged, with no warning", async () => {
    await tsuru("target", "add", "berth", berth.apiURL, "--set-current");
    expect(await tsuru("app", "create", app, "--pool", pool)).to.contain(`App "${app}" has been created!`);
    expect(await tsuru("app", "info", "-a", app)).to.contain(app);
    await tsuru("env", "set", "-a", app, "GREETING=hi", "--no-restart");
    expect(await tsuru("env", "get", "-a", app)).to.contain("GREETING=hi");
    expect(await tsuru("app", "list")).to.contain(app);
    expect(await tsuru("token", "show")).to.match(/API key: [0-9a-f]{64}/);
    await tsuru("certificate", "list", "-a", app);
    expect(await tsuru("permission", "list")).to.contain("app.deploy");
  });
});
