// Waiter's real CLI (PyPI waiter-client, installed here into a cached virtualenv) against
// Berth: create, show, update, tokens, delete. Skipped, with the reason printed, only when the
// package cannot be installed (no PyPI).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";

const run = promisify(execFile);
const VERSION = "1.5.7";
const VENV = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "berth", `waiter-client-${VERSION}`);

/** The waiter executable, installing it once into the cache; undefined (with why) when it cannot be. */
async function waiterCli(): Promise<{ bin?: string; why?: string }> {
  const bin = join(VENV, "bin", "waiter");
  if (existsSync(bin)) return { bin };
  try {
    await run("python3", ["-m", "venv", VENV], { timeout: 120_000 });
    await run(join(VENV, "bin", "pip"), ["install", "-q", `waiter-client==${VERSION}`], { timeout: 600_000 });
    return { bin };
  } catch (e) {
    return { why: `pip could not install waiter-client==${VERSION}: ${String(e).split("\n")[0]}` };
  }
}

describe("waiter CLI (waiter-client from PyPI)", function () {
  this.timeout(600_000);
  let berth: RunningBerth;
  let bin = "";
  let config = "";
  const id = randomBytes(3).toString("hex");
  const email = `wcli-${id}@example.com`;

  const waiter = async (...args: string[]) => {
    try {
      const r = await run(bin, ["--config", config, ...args], { timeout: 120_000, env: { ...process.env, USER: email } });
      return { rc: 0, out: r.stdout + r.stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return { rc: x.code ?? 1, out: (x.stdout ?? "") + (x.stderr ?? "") };
    }
  };

  before(async function () {
    const cli = await waiterCli();
    if (!cli.bin) {
      process.stderr.write(`    (skipped: ${cli.why})\n`);
      this.skip();
    }
    bin = cli.bin!;
    berth = await startBerth({ api: true });
    const post = (path: string, body: unknown) => fetch(`${berth.apiURL}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect((await post("/1.0/users", { email, password: "s3cret-pw" })).status).to.equal(201);
    // waiter-client waiter/http_util.py configure: http.auth.type "basic" with user and pass.
    config = join(mkdtempSync(join(tmpdir(), "waiter-cli-")), "waiter.json");
    writeFileSync(config, JSON.stringify({ clusters: [{ name: "berth", url: berth.apiURL, "default-for-create": true }], http: { auth: { type: "basic", basic: { user: email, pass: "s3cret-pw" } } }, metrics: { disabled: true } }));
  });
  after(async () => {
    await berth?.stop();
  });

  it("create, show, update, tokens, delete", async () => {
    const token = `cli-${id}`;
    const created = await waiter("create", token, "--cmd", "python3 -m http.server $PORT0", "--cmd-type", "shell", "--cpus", "0.1", "--mem", "64", "--version", "v1");
    expect(created.rc, created.out).to.equal(0);
    expect(created.out).to.include(`Successfully created ${token}`);

    const shown = await waiter("show", token, "--json");
    expect(shown.rc, shown.out).to.equal(0);
    const data = JSON.parse(shown.out) as { clusters: Record<string, { token: Record<string, unknown>; etag: string }> };
    expect(data.clusters.berth?.token).to.include({ cmd: "python3 -m http.server $PORT0", version: "v1", owner: email, cpus: 0.1, mem: 64 });
    expect(data.clusters.berth?.etag).to.match(/^E-/);

    const updated = await waiter("update", token, "--version", "v2");
    expect(updated.rc, updated.out).to.equal(0);
    expect(updated.out).to.include(`Successfully updated ${token}`);
    const after = JSON.parse((await waiter("show", token, "--json")).out) as typeof data;
    expect(after.clusters.berth?.token).to.include({ version: "v2", cmd: "python3 -m http.server $PORT0" });

    const listed = await waiter("tokens", "--user", email, "--json");
    expect(listed.rc, listed.out).to.equal(0);
    expect(listed.out).to.include(token);

    // A bad field: Waiter's message reaches the user.
    const bad = await waiter("update", token, "--cpus", "0");
    expect(bad.rc).to.not.equal(0);
    expect(bad.out).to.include("cpus must be a positive number");

    const deleted = await waiter("delete", token);
    expect(deleted.rc, deleted.out).to.equal(0);
    expect(deleted.out).to.include(`Successfully deleted ${token}`);
    expect((await waiter("show", token, "--json")).rc).to.not.equal(0);
  });
});
