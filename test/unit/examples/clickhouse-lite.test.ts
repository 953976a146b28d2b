// The example cloud class's server (examples/real-node/cloud-db.yaml, clickhouse-lite) run on
// this machine's python3 exactly as the class's command gives it: ClickHouse's HTTP interface
// with the instance's password (or only its SHA-256), rows kept in DATA_DIR across restarts, and
// the activity the controller's idle scaling reads.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { parseAllDocuments } from "yaml";
import type { ServiceClass } from "../../../src/model/kinds.ts";

const root = join(import.meta.dirname, "../../..");
const cls = parseAllDocuments(readFileSync(join(root, "examples/real-node/cloud-db.yaml"), "utf8")).map((d) => d.toJSON() as ServiceClass)[0]!;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

describe("example class clickhouse-lite (its server, on this machine's python3)", function () {
  this.timeout(20_000);
  const data = mkdtempSync(join(tmpdir(), "clickhouse-lite-"));
  let server: ChildProcess | undefined;
  let url = "";

  /** Starts the class's command with the environment the instance's pod gets (unexpanded $(VAR) for credentials it lacks). */
  const start = async (env: Record<string, string>) => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const [cmd = "python3", ...args] = cls.spec.command ?? [];
    server = spawn(cmd, args, { env: { PATH: process.env.PATH ?? "", DATA_DIR: data, PORT: String(port), DB_USER: "default", DB_PASSWORD: "$(PASSWORD)", DB_PASSWORD_SHA256_BASE64: "$(PASSWORD_SHA256_BASE64)", ...env }, stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      if (await fetch(`${url}/ping`).then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("clickhouse-lite did not start");
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s || s.exitCode !== null) return;
    await new Promise((r) => {
      s.once("exit", r);
      s.kill();
    });
  };
  const query = async (sql: string, password: string, body?: string) => {
    const r = await fetch(`${url}/?query=${encodeURIComponent(sql)}`, { method: body === undefined ? "GET" : "POST", body, headers: { Authorization: `Basic ${Buffer.from(`default:${password}`).toString("base64")}` } });
    return { status: r.status, text: await r.text() };
  };
  const idleSeconds = async () => ((await (await fetch(`${url}/berth/activity`)).json()) as { idleSeconds: number }).idleSeconds;

  after(async () => {
    await stop();
    rmSync(data, { recursive: true, force: true });
  });

  it("the class asks for what the server needs: storage, the activity path, backups with a restore", () => {
    expect(cls.metadata.labels).to.deep.equal({ "berth.dev/cloud": "true" });
    expect(cls.spec.port).to.equal(8123);
    expect(cls.spec.storage?.mountPath).to.equal("/var/lib/clickhouse-lite");
    expect(cls.spec.activityPath).to.equal("/berth/activity");
    expect(cls.spec.backup?.restoreCommand?.length).to.be.above(0);
  });

  it("answers queries only with the password; inserts and selects JSONEachRow rows", async () => {
    await start({ DB_PASSWORD: "s3cret" });
    expect(await (await fetch(`${url}/ping`)).text()).to.equal("Ok.\n");
    const refused = await query("SELECT 1", "wrong");
    expect(refused.status).to.equal(401);
    expect(refused.text).to.match(/AUTHENTICATION_FAILED/);
    expect((await fetch(`${url}/?query=SELECT+1`)).status).to.equal(401);
    expect(await query("SELECT 1", "s3cret")).to.deep.equal({ status: 200, text: "1\n" });
    expect((await query("INSERT INTO events FORMAT JSONEachRow", "s3cret", '{"id":1,"what":"created"}\n{"id":2,"what":"paid"}\n')).status).to.equal(200);
    expect((await query('INSERT INTO events FORMAT JSONEachRow {"id":3,"what":"shipped"}', "s3cret")).status).to.equal(200);
    expect((await query("SELECT * FROM events FORMAT JSONEachRow", "s3cret")).text.trim().split("\n").map((l) => JSON.parse(l) as unknown)).to.deep.equal([
      { id: 1, what: "created" },
      { id: 2, what: "paid" },
      { id: 3, what: "shipped" },
    ]);
    expect(await query("SELECT count() FROM events", "s3cret")).to.deep.equal({ status: 200, text: "3\n" });
    expect((await query("SELECT * FROM nothing", "s3cret")).status).to.equal(404);
    expect((await query("DROP TABLE events", "s3cret")).status).to.equal(400);
  });

  it("reports how long it has been unused: queries count, pings and the activity probe do not", async () => {
    await query("SELECT 1", "s3cret");
    await new Promise((r) => setTimeout(r, 600));
    await fetch(`${url}/ping`);
    const idle = await idleSeconds();
    expect(idle).to.be.at.least(0.5);
    expect(await idleSeconds()).to.be.at.least(idle);
    await query("SELECT 1", "s3cret");
    expect(await idleSeconds()).to.be.below(0.5);
  });

  it("keeps rows across a restart, and takes a new password (or only its SHA-256) from its environment", async () => {
    await stop();
    const hash = createHash("sha256").update("rotated-pw").digest("base64");
    await start({ DB_PASSWORD: "", DB_PASSWORD_SHA256_BASE64: hash });
    expect((await query("SELECT 1", "s3cret")).status).to.equal(401);
    expect(await query("SELECT count() FROM events", "rotated-pw")).to.deep.equal({ status: 200, text: "3\n" });
  });
});
