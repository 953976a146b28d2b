// Waiter's real CLI (PyPI waiter-client, installed here into a cached virtualenv) against
// Berth: create, show, update, tokens, delete. Skipped, with the reason printed, only when the
// package cannot be installed (no PyPI).
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { waiterCli, waiterRunner } from "../support/waiter-cli.ts";

describe("waiter CLI (waiter-client from PyPI)", function () {
  this.timeout(600_000);
  let berth: RunningBerth;
  let waiter: ReturnType<typeof waiterRunner>;
  const id = randomBytes(3).toString("hex");
  const email = `wcli-${id}@example.com`;

  before(async function () {
    const cli = await waiterCli();
    if (!cli.bin) {
      process.stderr.write(`    (skipped: ${cli.why})\n`);
      this.skip();
    }
    berth = await startBerth({ api: true });
    const post = (path: string, body: unknown) => fetch(`${berth.apiURL}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect((await post("/1.0/users", { email, password: "s3cret-pw" })).status).to.equal(201);
    waiter = waiterRunner(cli.bin!, berth.apiURL, email, "s3cret-pw");
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
