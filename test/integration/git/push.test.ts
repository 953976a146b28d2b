// Deis `git push` for real: the real git and ssh clients push a repository with a Procfile and a
// small Python server to Berth's git endpoint (src/git/) with a key registered through Deis
// /v1/keys; the push builds onto the registry's Python image, releases, and the app answers
// with its own code's response through the router on the local cluster's real node. Then a
// second push serves the new code; a user without permission, an unknown key, a Dockerfile and a
// broken build (no Procfile) are refused and leave it serving; Deis rollback serves the old code.
// Skipped, with the reason, without a node labelled berth.dev/node-group=real and the registry
// (BERTH_REAL_NODE, BERTH_REGISTRY from hack/cluster.sh env).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { Build, User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { silentLogger } from "../../../src/log.ts";
import { loadGitConfig } from "../../../src/git/config.ts";
import type { RunningGit } from "../../../src/git/start.ts";
import { startGit } from "../../../src/git/start.ts";
import type { RunningRouter } from "../../../src/router/start.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { commitFiles, gitPush, run, sshKey, sshWith } from "../support/git.ts";
import { call } from "../support/http.ts";
import { eventually, kubectl, kubectlStdin, realPoolManifest } from "../support/kube.ts";
import { APPS_DOMAIN, get, testRouter } from "../router/support.ts";

const REGISTRY = process.env.BERTH_REGISTRY ?? "";
const NODE = process.env.BERTH_REAL_NODE ?? "";

describe("git push: Deis' git endpoint builds, releases and serves on the real node", function () {
  this.timeout(600_000);
  const id = randomBytes(3).toString("hex");
  const [ns, pool, platform, app] = [`gn-${id}`, `greal-${id}`, `gpy-${id}`, `gitpy-${id}`];
  const [alice, eve] = [`galice${id}`, `geve${id}`];
  const tokens: Record<string, string> = {};
  const dir = mkdtempSync(join(tmpdir(), "berth-git-push-"));
  const repo = join(dir, "repo");
  let berth: RunningBerth;
  let router: RunningRouter;
  let git: RunningGit;

  const deis = (as: string, method: string, path: string, json?: unknown) => call(berth.apiURL, method, path, { token: tokens[as], scheme: "token", ...(json !== undefined ? { json } : {}) });
  const keyOf = (who: string) => join(dir, `${who}_ed25519`);
  const push = (who: string, ref = "master") => gitPush(repo, git.port, app, keyOf(who), ref);
  let first = true;
  const commit = async (files: Record<string, string | undefined>, message: string) => {
    await commitFiles(repo, files, message, first);
    first = false;
  };
  const server = (msg: string) =>
    `import http.server, os\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        b = ${JSON.stringify(msg)}.encode()\n        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)\nhttp.server.HTTPServer(("", int(os.environ["PORT"])), H).serve_forever()\n`;
  /** Through the router, by Host: resolves when the app answers want. */
  const serves = (want: string, timeoutMs = 150_000) =>
    eventually(`${app} serves "${want}" through the router`, async () => (await get(router.port, `${app}.${APPS_DOMAIN}`, "/", 3000).catch(() => undefined))?.body === want, timeoutMs, 300);
  const builds = async () => (await berth.client.list<Build>(BerthTypes.Build, { namespace: ns })).items.filter((b) => b.spec.app === app);

  before(async function () {
    const labelled = NODE && REGISTRY ? await kubectl("get", "nodes", "-l", "berth.dev/node-group=real", "-o", "name").catch(() => "") : "";
    if (!labelled.trim()) {
      process.stdout.write("    skipped: no node labelled berth.dev/node-group=real with its registry (BERTH_REAL_NODES=0, or another cluster on this machine owns the real node)\n");
      this.skip();
    }
    const tags = await fetch(`http://${REGISTRY}/v2/berth/python/tags/list`).then((r) => (r.ok ? (r.json() as Promise<{ tags?: string[] }>) : {}), () => ({}));
    const pyTag = (tags as { tags?: string[] }).tags?.[0];
    if (!pyTag) {
      process.stdout.write(`    skipped: the registry ${REGISTRY} has no berth/python image (hack/cluster/images/build.py)\n`);
      this.skip();
    }
    berth = await startBerth({ api: true });
    // No default command: a push without a Procfile is a failed build.
    await kubectlStdin(`${realPoolManifest(ns, pool)}---\napiVersion: berth.dev/v1alpha1\nkind: Platform\nmetadata: {name: ${platform}}\nspec: {image: "${REGISTRY}/berth/python:${pyTag}", env: [{name: PYTHONUNBUFFERED, value: "1"}]}\n`, "apply", "-f", "-");
    router = await testRouter(berth.client);
    git = await startGit({ client: berth.client, log: silentLogger() }, { ...loadGitConfig([], {}), port: 0, metricsPort: 0, appsDomain: APPS_DOMAIN });
    for (const u of [alice, eve]) {
      expect((await call(berth.apiURL, "POST", "/v1/auth/register/", { json: { username: u, password: "opensesame", email: `${u}@example.com` } })).status).to.equal(201);
      tokens[u] = (await call(berth.apiURL, "POST", "/v1/auth/login/", { json: { username: u, password: "opensesame" } })).json<{ token: string }>().token;
      const key = await sshKey(keyOf(u), `${u}@laptop`);
      expect((await deis(u, "POST", "/v1/keys/", { id: `${u}@laptop`, public: key })).status).to.equal(201);
    }
    await sshKey(keyOf("stranger"));
    // Neither test user is the cluster's administrator (the first account ever registered is).
    for (const u of (await berth.client.list<User>(BerthTypes.User)).items.filter((x) => x.spec.username === eve && x.spec.admin)) {
      await berth.client.mergePatch<User>(BerthTypes.User, undefined, u.metadata.name ?? "", { spec: { admin: false } });
    }
    // Berth's own pool field on apps:create: an unknown pool is a 400 in Deis' shape.
    const nopool = await deis(alice, "POST", "/v1/apps/", { id: `${app}-x`, pool: `nope-${id}` });
    expect([nopool.status, nopool.json()]).to.deep.equal([400, { pool: [`Pool "nope-${id}" not found.`] }]);
    const created = await deis(alice, "POST", "/v1/apps/", { id: app, pool });
    expect(created.status, created.text).to.equal(201);
    // Deis has no platform command: an administrator sets the app's platform (or it is detected).
    await kubectl("patch", "apps.berth.dev", app, "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { platform } }));
  });

  after(async () => {
    await git?.close();
    await router?.close();
    if (berth) {
      for (const u of [alice, eve]) if (tokens[u]) await deis(u, "DELETE", "/v1/auth/cancel").catch(() => undefined);
      await kubectl("delete", "namespace", ns, "--wait=false").catch(() => undefined);
      await kubectl("delete", "pool.berth.dev", pool, "--ignore-not-found").catch(() => undefined);
      await kubectl("delete", "platform.berth.dev", platform, "--ignore-not-found").catch(() => undefined);
      await berth.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  let firstRelease = 0;

  it("a push with a Procfile builds, releases and serves the code's own response, as Deis printed it", async () => {
    await commit({ "app.py": server("hello from git v1"), Procfile: "web: python3 app.py\n" }, "v1");
    const t0 = Date.now();
    const r = await push(alice);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.include("-----> Building").and.include("-----> Launching...");
    const done = /done, (\S+):v(\d+) deployed to Deis/.exec(r.out);
    expect(done?.[1], r.out).to.equal(app);
    expect(r.out).to.include(`http://${app}.${APPS_DOMAIN}`).and.include("* [new branch]      master -> master");
    process.stdout.write(`${r.out.replaceAll("\u001b[1G", "").split("\n").filter((l) => l.startsWith("remote:")).map((l) => `      ${l}`).join("\n")}\n`);
    firstRelease = Number(done?.[2]);
    await serves("hello from git v1");
    process.stdout.write(`    first push → serving through the router: ${Date.now() - t0} ms\n`);
    const [b] = await builds();
    expect(b?.spec).to.include({ phase: "Succeeded", platform, author: alice, version: firstRelease });
  });

  it("a second push with changed code serves the new response", async () => {
    await commit({ "app.py": server("hello from git v2") }, "v2");
    const t0 = Date.now();
    const r = await push(alice);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(new RegExp(`done, ${app}:v${firstRelease + 1} deployed to Deis`));
    await serves("hello from git v2");
    process.stdout.write(`    second push → serving through the router: ${Date.now() - t0} ms\n`);
  });

  it("refuses a user without permission, an unknown key and a fetch, and builds nothing", async () => {
    const before = (await builds()).length;
    const denied = await push(eve);
    expect(denied.code).to.not.equal(0);
    expect(denied.out).to.include(`App ${app} not found, or ${eve} has no permission on it`);
    const stranger = await push("stranger");
    expect(stranger.code).to.not.equal(0);
    expect(stranger.out).to.match(/Permission denied \(publickey\)/);
    const clone = await run("git", ["clone", `ssh://git@127.0.0.1:${git.port}/${app}.git`, join(dir, "clone")], { env: { GIT_SSH_COMMAND: sshWith(keyOf(alice)) } });
    expect(clone.code).to.not.equal(0);
    expect(clone.out).to.include("Berth keeps no repository");
    expect((await builds()).length).to.equal(before);
    // Once alice grants eve (deis perms:create), eve's key may push.
    expect((await deis(alice, "POST", `/v1/apps/${app}/perms/`, { username: eve })).status).to.equal(201);
    const branch = await push(eve, "master:feature");
    expect(branch.code).to.not.equal(0);
    expect(branch.out).to.include("feature is not deployed: push master or main").and.include("[remote rejected] master -> feature (pre-receive hook declined)");
  });

  it("a broken build and a Dockerfile reject the push and leave the previous release serving", async () => {
    const before = (await builds()).length;
    await commit({ Procfile: undefined }, "no Procfile");
    const broken = await push(alice);
    expect(broken.code, broken.out).to.not.equal(0);
    expect(broken.out).to.include("build failed: the source has no Procfile").and.include("[remote rejected] master -> master (pre-receive hook declined)");
    const failed = (await builds()).filter((b) => b.spec.phase === "Failed");
    expect(failed.length).to.equal(1);
    expect((await builds()).length).to.equal(before + 1);
    await commit({ Procfile: "web: python3 app.py\n", Dockerfile: "FROM scratch\n" }, "a Dockerfile");
    const docker = await push(alice);
    expect(docker.code).to.not.equal(0);
    expect(docker.out).to.include("Dockerfile builds are not supported");
    expect((await get(router.port, `${app}.${APPS_DOMAIN}`)).body).to.equal("hello from git v2");
  });

  it("deis releases:rollback to the first push's release serves the old response", async () => {
    const rb = await deis(alice, "POST", `/v1/apps/${app}/releases/rollback/`, { version: firstRelease });
    expect(rb.status, rb.text).to.equal(201);
    await serves("hello from git v1");
  });
});
