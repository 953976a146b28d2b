// The real Deis 1.13.4 CLI against Berth, the way a new user would drive it. Runs when the
// binary is at hand: $BERTH_DEIS_CLI, or where hack/build-deis-cli.sh builds it from the Go
// module proxy; every command must succeed and never print the client's API-version warning.
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { userObjectName } from "../../../src/api/identity/store.ts";
import type { Pool, User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";

const cli = process.env.BERTH_DEIS_CLI ?? join(process.env.BERTH_CACHE ?? join(homedir(), ".cache/berth"), "bin/deis-cli-v1.13.4/deis");
const WARNING = "Client and server API versions do not match";

describe("Deis 1.13.4 CLI against Berth", function () {
  this.timeout(300_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const homes: Record<string, string> = {};
  const [admin, alice, bob, carol] = [`cadm_${id}`, `calice_${id}`, `cbob-${id}`, `ccarol-${id}`];
  const app = `cli-${id}`;

  /** Runs the CLI as a user (their own HOME, so their own ~/.deis/client.json). */
  const deis = (user: string, ...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      homes[user] ??= mkdtempSync(join(tmpdir(), `deis-${user}-`));
      execFile(cli, args, { cwd: homes[user], env: { ...process.env, HOME: homes[user], DEIS_PROFILE: "" }, timeout: 120_000 }, (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`;
        if (err) reject(new Error(`deis ${args.join(" ")} (as ${user}) failed: ${out}`));
        else if (out.includes(WARNING)) reject(new Error(`deis ${args.join(" ")} warned: ${out}`));
        else resolve(out);
      });
    });

  before(async function () {
    if (!existsSync(cli)) {
      process.stderr.write(`    (skipped: no Deis CLI at ${cli}; hack/build-deis-cli.sh builds it, or set BERTH_DEIS_CLI)\n`);
      this.skip();
    }
    berth = await startBerth({ api: true });
    await berth.client.create<Pool>(BerthTypes.Pool, { metadata: { name: `deiscli-${id}` }, spec: { default: true, public: true } });
  });
  after(async () => {
    if (!berth) return;
    await berth.client.delete(BerthTypes.Pool, undefined, `deiscli-${id}`).catch(() => undefined);
    await berth.stop();
  });

  it("registers and logs in (underscores and short passwords as Deis allowed)", async () => {
    for (const u of [admin, alice, bob, carol]) {
      expect(await deis(u, "register", berth.apiURL, `--username=${u}`, "--password=pw", `--email=${u}@example.com`)).to.contain(`Registered ${u}`);
    }
    await berth.client.mergePatch<User>(BerthTypes.User, undefined, userObjectName(`${admin}@example.com`), { spec: { admin: true } });
    await new Promise((r) => setTimeout(r, 500));
    expect(await deis(alice, "login", berth.apiURL, `--username=${alice}`, "--password=pw")).to.contain(`Logged in as ${alice}`);
  });

  it("creates an app, deploys an image, sets config, limits, scale; pull and push config", async () => {
    expect(await deis(alice, "apps:create", app, "--no-remote")).to.contain(app);
    await deis(alice, "builds:create", "nginx:1.27", "-a", app);
    expect(await deis(alice, "config:set", "HELLO=world", "-a", app)).to.contain("HELLO");
    await deis(alice, "config:pull", "-a", app, "-o");
    expect(readFileSync(join(homes[alice]!, ".env"), "utf8")).to.equal("HELLO=world\n");
    await deis(alice, "config:push", "-a", app);
    expect(await deis(alice, "limits:set", "web=1024MB", "-a", app)).to.contain("1024M");
    const scaled = await deis(alice, "ps:scale", "web=2", "-a", app);
    expect(scaled).to.match(/web\.1 up/);
    expect(scaled).to.match(/web\.2 up/);
    expect(await deis(alice, "ps:restart", "web.1", "-a", app)).to.match(/web\.\d up/);
    await deis(alice, "ps:restart", "web", "-a", app);
    await deis(alice, "ps:restart", "-a", app);
    await deis(alice, "logs", "-a", app);
    await deis(alice, "apps:run", "-a", app, "--", "echo", "hi");
    await deis(alice, "releases:list", "-a", app);
    await deis(alice, "info", "-a", app);
  });

  it("shares, lets a collaborator leave, transfers", async () => {
    await deis(alice, "perms:create", bob, "-a", app);
    await deis(alice, "perms:create", carol, "-a", app);
    await deis(bob, "perms:delete", bob, "-a", app);
    expect(await deis(alice, "perms:list", "-a", app)).to.not.contain(bob);
    const host = `tls-${id}.example.com`;
    await deis(alice, "domains:add", host, "-a", app);
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${host}`, "-addext", `subjectAltName=DNS:${host}`, "-keyout", join(homes[alice]!, "k.pem"), "-out", join(homes[alice]!, "c.pem")], { stdio: "ignore" });
    await deis(alice, "certs:add", "c.pem", "k.pem");
    expect(await deis(alice, "certs:list")).to.contain(host);
    await deis(alice, "certs:remove", host);
    await deis(alice, "apps:transfer", carol, "-a", app);
    expect(await deis(carol, "info", "-a", app)).to.contain(carol);
  });

  it("administers users: list, regenerate a token, reset a password, cancel an account", async () => {
    expect(await deis(admin, "users:list", "--limit=1000")).to.contain(alice);
    await deis(admin, "auth:regenerate", "-u", bob);
    await deis(admin, "auth:passwd", `--username=${bob}`, "--new-password=newpw");
    expect(await deis(bob, "login", berth.apiURL, `--username=${bob}`, "--password=newpw")).to.contain(`Logged in as ${bob}`);
    await deis(admin, "auth:cancel", `--username=${bob}`, "--yes");
    await deis(admin, "perms:create", alice, "--admin");
    await deis(admin, "perms:delete", alice, "--admin");
    await deis(carol, "apps:destroy", `--app=${app}`, `--confirm=${app}`);
  });
});
