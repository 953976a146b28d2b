// Source deploys that really serve: on the local cluster's real node, a Python and a Node.js
// app deployed from a directory through the tsuru endpoint (multipart, as the CLI sends it) are
// built onto the registry's base images, pulled by containerd and answer with their own code's
// response; a second deploy serves the new response, a broken build leaves it serving, and a
// rollback serves the old one. Skipped, with the reason, without a node labelled
// berth.dev/node-group=real and the registry (BERTH_REAL_NODE, BERTH_REGISTRY from hack/cluster.sh env).
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { Release, User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { userObjectName } from "../../../src/api/identity/store.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { call } from "../support/http.ts";
import { eventually, kubectl, kubectlStdin, realPoolManifest } from "../support/kube.ts";
import { multipart, sourceArchive } from "./tsuru-deploy.test.ts";

const REGISTRY = process.env.BERTH_REGISTRY ?? "";
const NODE = process.env.BERTH_REAL_NODE ?? "";

type Pod = { metadata: { name: string }; status: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] } };

async function get(url: string): Promise<string | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return r.ok ? await r.text() : undefined;
  } catch {
    return undefined;
  }
}

/** The first tag the registry holds for repo (the images' tags follow the host's versions). */
async function tagOf(repo: string): Promise<string | undefined> {
  const r = await fetch(`http://${REGISTRY}/v2/${repo}/tags/list`).catch(() => undefined);
  return r?.ok ? ((await r.json()) as { tags?: string[] }).tags?.[0] : undefined;
}

describe("builder: source deploys serve on the real node", function () {
  this.timeout(300_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const [ns, pool, team, py, js] = [`bn-${id}`, `breal-${id}`, `bteam-${id}`, `pysrc-${id}`, `jssrc-${id}`];
  let token = "";
  const tsuru = (method: string, path: string, form?: Record<string, string>) => call(berth.apiURL, method, `/1.0${path}`, { token, ...(form ? { form } : {}) });
  const deploy = (app: string, files: Record<string, string>) => multipart(`${berth.apiURL}/1.0/apps/${app}/deploy`, token, { field: "file", filename: "archive.tar.gz", data: sourceArchive(files) });
  const pyApp = (msg: string) => ({
    "app.py": `import http.server, os\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        b = ${JSON.stringify(msg)}.encode()\n        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)\nhttp.server.HTTPServer(("", int(os.environ["PORT"])), H).serve_forever()\n`,
    Procfile: "web: python3 app.py\n",
  });
  /** What the app's ready web pods answer (all of them, once the rollout settled on one answer). */
  const serves = async (app: string, want: string) =>
    eventually(`${app} serves ${want}`, async () => {
      const pods = (JSON.parse(await kubectl("get", "pods", "-n", ns, "-l", `berth.dev/app=${app},berth.dev/process=web`, "-o", "json")) as { items: Pod[] }).items;
      const ready = pods.filter((p) => p.status.phase === "Running" && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
      if (!ready.length || ready.length !== pods.length) return undefined;
      const answers = await Promise.all(ready.map((p) => get(`http://${p.status.podIP}:8888/`)));
      return answers.every((a) => a === want) ? answers : undefined;
    }, 150_000);

  before(async function () {
    const labelled = NODE && REGISTRY ? await kubectl("get", "nodes", "-l", "berth.dev/node-group=real", "-o", "name").catch(() => "") : "";
    if (!labelled.trim()) {
      process.stdout.write("    skipped: no node labelled berth.dev/node-group=real with its registry (BERTH_REAL_NODES=0, or another cluster on this machine owns the real node)\n");
      this.skip();
    }
    const [pyTag, nodeTag] = [await tagOf("berth/python"), await tagOf("berth/node")];
    if (!pyTag || !nodeTag) {
      process.stdout.write(`    skipped: the registry ${REGISTRY} has no berth/python or berth/node image (hack/cluster/images/build.py)\n`);
      this.skip();
    }
    berth = await startBerth({ api: true });
    await kubectlStdin(
      `${realPoolManifest(ns, pool)}---
apiVersion: berth.dev/v1alpha1
kind: Platform
metadata: {name: python-${id}}
spec: {image: "${REGISTRY}/berth/python:${pyTag}", command: python3 app.py}
---
apiVersion: berth.dev/v1alpha1
kind: Platform
metadata: {name: node-${id}}
spec: {image: "${REGISTRY}/berth/node:${nodeTag}", command: node server.js}
`,
      "apply",
      "-f",
      "-",
    );
    const email = `bn-${id}@example.com`;
    expect((await call(berth.apiURL, "POST", "/1.0/users", { form: { email, password: "s3cret-pw" } })).status).to.equal(201);
    token = (await call(berth.apiURL, "POST", "/1.0/auth/login", { form: { email, password: "s3cret-pw" } })).json<{ token: string }>().token;
    await berth.client.mergePatch<User>(BerthTypes.User, undefined, userObjectName(email), { spec: { admin: true } });
    await new Promise((r) => setTimeout(r, 300));
    expect((await tsuru("POST", "/teams", { name: team })).status).to.equal(201);
    expect((await tsuru("POST", "/apps", { name: py, teamOwner: team, pool, platform: `python-${id}` })).status).to.equal(201);
    expect((await tsuru("POST", "/apps", { name: js, teamOwner: team, pool, platform: `node-${id}` })).status).to.equal(201);
  });
  after(async () => {
    if (!berth) return;
    await kubectl("delete", "namespace", ns, "--wait=false").catch(() => undefined);
    await kubectl("delete", "pool.berth.dev", pool, "--ignore-not-found").catch(() => undefined);
    await kubectl("delete", "platform.berth.dev", `python-${id}`, `node-${id}`, "--ignore-not-found").catch(() => undefined);
    await berth.stop();
  });

  it("deploys a Python directory that serves its own response, then a new version, then keeps it through a broken build, then rolls back", async () => {
    const t0 = Date.now();
    const first = await deploy(py, pyApp("hello from source v1"));
    expect(first.text.trimEnd().split("\n").at(-1), first.text).to.equal("OK");
    await serves(py, "hello from source v1");
    process.stdout.write(`    source deploy, upload → serving on the real node: ${Date.now() - t0} ms\n`);
    const v1 = (await berth.client.list<Release>(BerthTypes.Release, { namespace: ns })).items.filter((r) => r.spec.app === py).sort((a, b) => b.spec.version - a.spec.version)[0]!;
    const second = await deploy(py, pyApp("hello from source v2"));
    expect(second.text.trimEnd().split("\n").at(-1), second.text).to.equal("OK");
    await serves(py, "hello from source v2");
    const broken = await multipart(`${berth.apiURL}/1.0/apps/${py}/deploy`, token, { field: "file", filename: "archive.tar.gz", data: Buffer.from("garbage") });
    expect(broken.text.trimEnd().split("\n").at(-1)).to.match(/^Error: build failed/);
    await serves(py, "hello from source v2");
    const rb = await tsuru("POST", `/apps/${py}/deploy/rollback`, { version: String(v1.spec.version) });
    expect(rb.status).to.equal(200);
    await serves(py, "hello from source v1");
  });

  it("deploys a Node.js directory that serves its own response", async () => {
    const r = await deploy(js, {
      "server.js": `require("http").createServer((q, s) => s.end("hello from node source")).listen(Number(process.env.PORT));\n`,
    });
    expect(r.text.trimEnd().split("\n").at(-1), r.text).to.equal("OK");
    await serves(js, "hello from node source");
  });
});
