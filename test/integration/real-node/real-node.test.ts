// Apps that really run: on the local cluster's real node (kubelet, containerd, kube-proxy,
// CoreDNS, a registry; see hack/cluster/node.sh), an App applied with kubectl pulls its image
// from the registry, serves HTTP on its pod IP and its ClusterIP, sees env changes, writes logs
// that kubectl, tsuru and Deis show, runs one-off commands with their real output and exit code,
// scales, and a bad image says so in the App's Ready condition.
// Skipped (and counted as skipped) when the cluster has no real node (BERTH_REAL_NODES=0).
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { App, User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { userObjectName } from "../../../src/api/identity/store.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { eventually, kubectl, kubectlStdin, realPoolManifest } from "../support/kube.ts";

const REGISTRY = process.env.BERTH_REGISTRY ?? "";
const NODE = process.env.BERTH_REAL_NODE ?? "";
const root = process.env.BERTH_ROOT ?? process.cwd();

type Pod = { metadata: { name: string }; spec: { nodeName?: string }; status: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] } };

/** GET over plain HTTP with a short timeout: the body, or undefined while it does not answer. */
async function get(url: string): Promise<string | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return r.ok ? await r.text() : undefined;
  } catch {
    return undefined;
  }
}

describe("real node: apps that really run", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  const id = randomBytes(3).toString("hex");
  const ns = `rn-${id}`;
  const pool = `real-${id}`;
  const app = `hello-${id}`;
  let token = "";

  const appManifest = (name: string, image: string, greeting: string, replicas = 1) => `
apiVersion: berth.dev/v1alpha1
kind: App
metadata: {name: ${name}, namespace: ${ns}}
spec:
  image: ${image}
  pool: ${pool}
  processes:
  - name: web
    replicas: ${replicas}
    ports: [{port: 8080}]
    healthCheck: {path: /healthz, periodSeconds: 2}
    resources: {cpu: 100m, memory: 64Mi}
  env: [{name: GREETING, value: ${greeting}}]
`;
  const pods = async (name: string) =>
    (JSON.parse(await kubectl("get", "pods", "-n", ns, "-l", `berth.dev/app=${name},berth.dev/process=web`, "-o", "json")) as { items: Pod[] }).items;
  const ready = (p: Pod) => p.status.phase === "Running" && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True");
  const clusterURL = async () => `http://${(await kubectl("get", "service", "-n", ns, `${app}-web`, "-o", "jsonpath={.spec.clusterIP}")).trim()}:8080`;
  const api = async (method: string, path: string, auth: string, body?: { form?: Record<string, string>; json?: unknown }) => {
    const headers: Record<string, string> = { Authorization: auth };
    let payload: string | undefined;
    if (body?.form) {
      payload = new URLSearchParams(body.form).toString();
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    } else if (body?.json !== undefined) {
      payload = JSON.stringify(body.json);
      headers["Content-Type"] = "application/json";
    }
    const r = await fetch(`${berth.apiURL}${path}`, { method, headers, body: payload });
    return { status: r.status, text: await r.text() };
  };
  const tsuru = (method: string, path: string, form?: Record<string, string>) => api(method, `/1.0${path}`, `bearer ${token}`, form && { form });
  const deis = (method: string, path: string, json?: unknown) => api(method, `/v1${path}`, `token ${token}`, json === undefined ? undefined : { json });

  before(async function () {
    if (!NODE || !REGISTRY) {
      process.stdout.write("    skipped: this cluster has no real node (BERTH_REAL_NODES=0, not root, or another cluster on this machine runs it)\n");
      this.skip();
    }
    berth = await startBerth({ api: true });
    await kubectlStdin(
      realPoolManifest(ns, pool),
      "apply",
      "-f",
      "-",
    );
    // An administrator for the tsuru and Deis calls (one token serves both dialects).
    const email = `rn-${id}@example.com`;
    expect((await api("POST", "/1.0/users", "", { form: { email, password: "s3cret-pw" } })).status).to.equal(201);
    token = (JSON.parse((await api("POST", "/1.0/auth/login", "", { form: { email, password: "s3cret-pw" } })).text) as { token: string }).token;
    await berth.client.mergePatch<User>(BerthTypes.User, undefined, userObjectName(email), { spec: { admin: true } });
  });
  after(async () => {
    if (!berth) return;
    await kubectl("delete", "namespace", ns, "--wait=false").catch(() => undefined);
    await kubectl("delete", "pool.berth.dev", pool, "--ignore-not-found").catch(() => undefined);
    await berth.stop();
  });

  it("pulls the app's image from the registry and serves HTTP on its pod IP and its ClusterIP", async () => {
    await kubectlStdin(appManifest(app, `${REGISTRY}/berth/hello:1`, "hello"), "apply", "-f", "-");
    await kubectl("wait", "--for=condition=Ready", "--timeout=120s", "-n", ns, `app/${app}`);
    const [pod] = await pods(app);
    expect(pod?.spec.nodeName).to.equal(NODE);
    expect(await get(`http://${pod?.status.podIP}:8080/`)).to.match(new RegExp(`^hello from ${pod?.metadata.name} \\(release v1\\)`));
    expect(await eventually("the ClusterIP answers", async () => get(`${await clusterURL()}/`), 30_000)).to.match(/^hello from /);
  });

  it("shows a line the app printed in kubectl logs, tsuru's log and Deis's logs", async () => {
    const marker = `/seen-${randomBytes(4).toString("hex")}`;
    await get(`${await clusterURL()}${marker}`);
    const [pod] = await pods(app);
    await eventually("kubectl logs has the request", async () => (await kubectl("logs", "-n", ns, pod?.metadata.name ?? "")).includes(`GET ${marker}`), 20_000);
    const entries = await eventually("tsuru log has it", async () => {
      const r = await tsuru("GET", `/apps/${app}/log?lines=50`);
      return r.status === 200 && r.text.includes(marker) && (JSON.parse(r.text) as { Message: string; Unit: string; Source: string }[]);
    }, 20_000);
    expect(entries.find((e) => e.Message.includes(marker))).to.include({ Unit: pod?.metadata.name, Source: "web" });
    const deisLogs = await deis("GET", `/apps/${app}/logs`);
    expect(deisLogs.status).to.equal(200);
    // Raw text lines "<time> <app>[<type>.<num>]: <line>", as the Deis controller answers them.
    const line = deisLogs.text.split("\n").find((l) => l.includes(marker));
    expect(line).to.match(new RegExp(`^\\S+ ${app}\\[web\\.\\d+\\]: `));
  });

  it("rolls an env change out to the running process", async () => {
    await kubectl("patch", "app", app, "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { env: [{ name: "GREETING", value: `bonjour-${id}` }] } }));
    const url = await clusterURL();
    const body = await eventually("the new greeting answers", async () => {
      const b = await get(`${url}/`);
      return b?.startsWith(`bonjour-${id} `) && b;
    }, 120_000, 500);
    expect(body).to.contain("(release v2)");
    // Rolled out: v2's units ready and v1's gone, so every later request meets the new greeting.
    await eventually("v2 rolled out", async () => {
      const a = await berth.client.get<App>(BerthTypes.App, ns, app);
      return a.status?.currentRelease === "v2" && a.status.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    }, 60_000, 500);
  });

  it("runs one-off commands with their real output and exit code, resolving Services by name", async () => {
    const svc = `http://${app}-web.${ns}.svc.cluster.local:8080/`;
    const ok = await deis("POST", `/apps/${app}/run/`, { command: `echo "greeting=$GREETING"; wget -qO- ${svc}` });
    expect(ok.status).to.equal(200);
    // Deis' (rc, output) tuple, as the Deis client decodes it.
    const [rc, output] = JSON.parse(ok.text) as [number, string];
    expect(rc).to.equal(0);
    expect(output).to.contain(`greeting=bonjour-${id}`).and.contain(`bonjour-${id} from ${app}-web-`);
    const failed = JSON.parse((await deis("POST", `/apps/${app}/run/`, { command: "echo about to fail; exit 3" })).text) as [number, string];
    expect(failed).to.deep.equal([3, "about to fail\n"]);
    const viaTsuru = await tsuru("POST", `/apps/${app}/run`, { command: "echo from tsuru; exit 5" });
    expect(viaTsuru.status).to.equal(200);
    expect(viaTsuru.text).to.contain("from tsuru").and.contain("exited with code 5");
  });

  it("scales to 3 units, each Running on the real node and answering", async () => {
    await kubectl("patch", "app", app, "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { processes: [{ name: "web", replicas: 3, ports: [{ port: 8080 }], healthCheck: { path: "/healthz", periodSeconds: 2 }, resources: { cpu: "100m", memory: "64Mi" } }] } }));
    const running = await eventually("3 ready pods", async () => {
      const ps = (await pods(app)).filter(ready);
      return ps.length === 3 && ps;
    }, 120_000, 500);
    for (const p of running) {
      expect(p.spec.nodeName).to.equal(NODE);
      expect(await get(`http://${p.status.podIP}:8080/`)).to.contain(`from ${p.metadata.name}`);
    }
    await kubectl("wait", "--for=condition=Ready", "--timeout=60s", "-n", ns, `app/${app}`);
  });

  it("says in the App's Ready condition that an image cannot be pulled", async () => {
    const bad = `bad-${id}`;
    const image = `${REGISTRY}/berth/does-not-exist:1`;
    await kubectlStdin(appManifest(bad, image, "x"), "apply", "-f", "-");
    const cond = await eventually("Ready=False with the pull failure", async () => {
      const a = await berth.client.get<App>(BerthTypes.App, ns, bad);
      const c = a.status?.conditions?.find((x) => x.type === "Ready");
      return c?.status === "False" && ["ErrImagePull", "ImagePullBackOff"].includes(c.reason ?? "") && c;
    }, 90_000, 500);
    expect(cond.message).to.contain(`image "${image}"`).and.contain("cannot be pulled");
  });

  it("serves the real-node example (examples/real-node/)", async () => {
    await kubectl("apply", "-f", `${root}/examples/real-node/`);
    try {
      await kubectl("wait", "--for=condition=Ready", "--timeout=120s", "-n", "berth-real", "app/hello");
      const ip = (await kubectl("get", "service", "-n", "berth-real", "hello-web", "-o", "jsonpath={.spec.clusterIP}")).trim();
      expect(await eventually("the example answers", () => get(`http://${ip}:8080/`), 30_000)).to.match(/^hello from hello-web-/);
    } finally {
      await kubectl("delete", "-f", `${root}/examples/real-node/`, "--ignore-not-found", "--wait=false").catch(() => undefined);
    }
  });
});
