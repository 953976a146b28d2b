// Source deploy vs image deploy, in the same run, against the cluster of the current kubeconfig:
// the time from POST /1.0/apps/{app}/deploy to the deploy stream's final OK (new pods Ready) for
// an upload (tar.gz of a small app: build onto the platform base image, push, release) and for
// an image deploy of an image already in the registry. The registry is BERTH_REGISTRY when set
// (with BENCH_BASE_IMAGE, e.g. 10.245.1.1:5000/berth/python:3.11), else a docker-registry
// started here on 127.0.0.1 with a tiny base image. Pods land wherever the pool puts them
// (KWOK nodes unless BENCH_NODE_SELECTOR=key=value, e.g. berth.dev/node-group=real).
// Run: npm run bench:deploy   (BENCH_ROUNDS=5 by default)
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Types } from "../src/kube/resource.ts";
import type { App, Platform, Pool, Team } from "../src/model/kinds.ts";
import { BerthTypes } from "../src/model/kinds.ts";
import { pushBaseImage, startRegistry } from "../test/integration/support/registry.ts";
import type { TestRegistry } from "../test/integration/support/registry.ts";
import { client, namespace, percentile, report, startBerthApi } from "./support.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
execFileSync("kubectl", ["apply", "--server-side", "--force-conflicts", "-f", new URL("../crds/", import.meta.url).pathname], { stdio: "ignore" });
try {
  execFileSync("kubectl", ["create", "namespace", "berth-system"], { stdio: "ignore" });
} catch {
  /* exists */
}
let own: TestRegistry | undefined;
let baseImage = process.env.BENCH_BASE_IMAGE ?? "";
if (!process.env.BERTH_REGISTRY) {
  own = await startRegistry();
  process.env.BERTH_REGISTRY = `${own.host}/bench-apps`;
  baseImage = await pushBaseImage(own.host, "base/bench", "1");
}
if (!baseImage) throw new Error("BERTH_REGISTRY is set: name the platform's base image in BENCH_BASE_IMAGE");

const c = await client();
const ns = await namespace(c, "bench-deploy");
const suffix = ns.slice(-6);
const team = `bench-${suffix}`;
const poolName = `pool-${suffix}`;
const platformName = `bench-${suffix}`;
const [key, value] = (process.env.BENCH_NODE_SELECTOR ?? "").split("=");
await c.create<Team>(BerthTypes.Team, { metadata: { name: team }, spec: {} });
await c.create<Pool>(BerthTypes.Pool, {
  metadata: { name: poolName },
  spec: { namespace: ns, public: true, ...(key && value ? { nodeSelector: { [key]: value }, tolerations: [{ key: "berth.dev/real-node", operator: "Exists", effect: "NoSchedule" }] } : {}) },
});
await c.create<Platform>(BerthTypes.Platform, { metadata: { name: platformName }, spec: { image: baseImage } });

const { manager, base, auth, stop } = await startBerthApi(c, suffix, 4);

const post = async (path: string, body: string | FormData, type?: string) => {
  const r = await fetch(`${base}${path}`, { method: "POST", headers: { ...auth, ...(type ? { "Content-Type": type } : {}) }, body });
  return { status: r.status, text: await r.text() };
};
const app = `src-${suffix}`;
const imageApp = `img-${suffix}`;
for (const name of [app, imageApp]) {
  const r = await post("/1.0/apps", new URLSearchParams({ name, teamOwner: team, pool: poolName, platform: platformName }).toString(), "application/x-www-form-urlencoded");
  if (r.status !== 201) throw new Error(`app create ${name}: ${r.status} ${r.text}`);
}

const dir = mkdtempSync(join(tmpdir(), "bench-src-"));
const source: number[] = [];
const image: number[] = [];
let built = "";
let last = "";
for (let i = 0; i < ROUNDS; i++) {
  writeFileSync(join(dir, "app.py"), `print("round ${i}")\n`);
  writeFileSync(join(dir, "Procfile"), "web: python3 app.py\n");
  const archive = execFileSync("tar", ["-C", dir, "-czf", "-", "."]);
  const form = new FormData();
  form.append("file", new Blob([archive]), "archive.tar.gz");
  let t0 = performance.now();
  const s = await post(`/1.0/apps/${app}/deploy`, form);
  source.push(performance.now() - t0);
  last = s.text.trimEnd().split("\n").at(-1) ?? "";
  if (last !== "OK") throw new Error(`source deploy: ${s.text}`);
  // The image deploy runs the image the source deploy just built (already in the registry).
  const a = manager.informers.informerFor<App>(BerthTypes.App).store.list(ns).find((x) => x.metadata.name === app);
  built = a?.spec.image ?? "";
  t0 = performance.now();
  const d = await post(`/1.0/apps/${imageApp}/deploy`, new URLSearchParams({ image: built }).toString(), "application/x-www-form-urlencoded");
  image.push(performance.now() - t0);
  if (!d.text.trimEnd().endsWith("OK")) throw new Error(`image deploy: ${d.text}`);
}

report(`Deploy: source (upload → build → Ready) vs image (→ Ready), ${ROUNDS} rounds, same run`, {
  "source deploy p50 (s)": percentile(source, 50) / 1000,
  "source deploy max (s)": Math.max(...source) / 1000,
  "image deploy p50 (s)": percentile(image, 50) / 1000,
  "image deploy max (s)": Math.max(...image) / 1000,
  "build overhead p50 (s)": (percentile(source, 50) - percentile(image, 50)) / 1000,
  "nodes": key ? `${key}=${value}` : "KWOK (pods Ready without running)",
  "registry": process.env.BERTH_REGISTRY ?? "",
  "last image": built,
});
await stop();
await c.delete(Types.Namespace, undefined, ns).catch(() => undefined);
await c.delete(BerthTypes.Pool, undefined, poolName).catch(() => undefined);
await c.delete(BerthTypes.Platform, undefined, platformName).catch(() => undefined);
await c.delete(BerthTypes.Team, undefined, team).catch(() => undefined);
c.close();
await own?.stop();
process.exit(0);
