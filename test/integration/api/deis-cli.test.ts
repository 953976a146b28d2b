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
import type { App, Pool, User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { commitFiles, run, sshKey, sshWith } from "../support/git.ts";
import { silentLogger } from "../../../src/log.ts";
import { loadGitConfig } from "../../../src/git/config.ts";
import { startGit } from "../../../src/git/start.ts";

const cli = process.env.BERTH_DEIS_CLI ?? join(process.env.BERTH_CACHE ?? join(homedir(), ".cache/berth"), "bin/deis-cli-v1.13.4/deis");
const WARNING = "Client and server API versions do not match";

describe("Deis 1.13.4 CLI against Berth", function () {
  this.timeout(300_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const homes: Record<string, string> = {};
  const [admin, alice, bob, carol] = [`cadm_${id}`, `calice_${id}`, `cbob-${id}`, `ccarol-${id}`];
  const app = `cli-${id}`;

  /** Runs the CLI as a user (their own HOME, so their own ~/.deis/client.json), in cwd (default: that HOME). */
  const deisIn = (user: string, cwd: string | undefined, ...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      homes[user] ??= mkdtempSync(join(tmpdir(), `deis-${user}-`));
      execFile(cli, args, { cwd: cwd ?? homes[user], env: { ...process.env, HOME: homes[user], DEIS_PROFILE: "" }, timeout: 120_000 }, (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`;
        if (err) reject(new Error(`deis ${args.join(" ")} (as ${user}) failed: ${out}`));
        else if (out.includes(WARNING)) reject(new Error(`deis ${args.join(" ")} warned: ${out}`));
        else resolve(out);
      });
    });
  const deis = (user: string, ...args: string[]) => deisIn(user, undefined, ...args);

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

  it("keys:add, then apps:create in a git repository adds the remote deis, and git push deis master deploys through Berth's git endpoint", async function () {
    const registry = process.env.BERTH_REGISTRY ?? "";
    const home = homes[alice]!;
    // The 1.13 CLI accepts ssh-rsa, ssh-dss and ecdsa keys only (client/cmd/keys.go: "^(ssh-...|ecdsa-[^ ]+) ").
    const key = await sshKey(join(home, "id_rsa"), `${alice}@laptop`, "rsa");
    await deis(alice, "keys:add", join(home, "id_rsa.pub"));
    expect(await deis(alice, "keys:list")).to.contain(`${alice}@laptop`); // the key id is its comment
    const repo = join(home, "shop");
    await commitFiles(repo, { Procfile: "web: exec httpd -f -p $PORT -h /app\n", "index.html": "hello\n" }, "first", true);
    const pushed = `git-${id}`;
    expect(await deisIn(alice, repo, "apps:create", pushed)).to.contain("Git remote deis added");
    const remote = (await run("git", ["remote", "get-url", "deis"], { cwd: repo })).out.trim();
    expect(remote).to.match(new RegExp(`^ssh://git@[^/]+:2222/${pushed}\\.git$`));
    expect(key).to.match(/^ssh-rsa /);
    const tags = registry ? await fetch(`http://${registry}/v2/berth/busybox/tags/list`).then((r) => (r.ok ? (r.json() as Promise<{ tags?: string[] }>) : {}), () => ({})) : {};
    const tag = (tags as { tags?: string[] }).tags?.[0];
    if (!tag) {
      process.stdout.write("      (the push itself is skipped: no registry with berth/busybox)\n");
      return;
    }
    await berth.client.create(BerthTypes.Platform, { metadata: { name: `cli-${id}` }, spec: { image: `${registry}/berth/busybox:${tag}` } });
    const app = (await berth.client.list<App>(BerthTypes.App)).items.find((a) => a.metadata.name === pushed)!;
    await berth.client.mergePatch(BerthTypes.App, app.metadata.namespace, pushed, { spec: { platform: `cli-${id}` } });
    const git = await startGit({ client: berth.client, log: silentLogger() }, { ...loadGitConfig([], {}), port: 0, metricsPort: 0, rolloutTimeoutMs: 90_000 });
    try {
      // The remote names port 2222; this test's endpoint listens elsewhere.
      const base = remote.slice(0, remote.lastIndexOf("/") + 1);
      const r = await run("git", ["-c", `url.ssh://git@127.0.0.1:${git.port}/.insteadOf=${base}`, "push", "deis", "master"], { cwd: repo, env: { GIT_SSH_COMMAND: sshWith(join(home, "id_rsa")) } });
      expect(r.code, r.out).to.equal(0);
      expect(r.out).to.match(new RegExp(`done, ${pushed}:v2 deployed to Deis`));
      // The pushed build (apps:create's placeholder release is no build).
      expect((await deis(alice, "builds:list", "-a", pushed)).split("\n").filter((l) => /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(l))).to.have.length(1);
    } finally {
      await git.close();
      await deis(alice, "apps:destroy", `--app=${pushed}`, `--confirm=${pushed}`).catch(() => undefined);
      await berth.client.delete(BerthTypes.Platform, undefined, `cli-${id}`).catch(() => undefined);
    }
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
