// The resource model end to end: kubectl apply -f examples/ converges, a second apply is a
// no-op, an env change is a release and a rollout, a rollback restores the exact env,
// deleting an App leaves nothing behind, bad manifests are refused in plain words.
import { readdirSync } from "node:fs";
import { expect } from "chai";
import { Types } from "../../../src/kube/resource.ts";
import type { KubeObject } from "../../../src/kube/resource.ts";
import type { App, Release } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { eventually, kubectl, kubectlStdin } from "../support/kube.ts";

const root = process.env.BERTH_ROOT ?? process.cwd();
const NS = "berth-examples";
type Secret = KubeObject & { data?: Record<string, string> };
type Deployment = KubeObject & { spec: { template: { metadata: { labels: Record<string, string> } } } };

describe("resource model (examples/)", function () {
  this.timeout(120_000);
  let berth: RunningBerth;
  const releases = async (app: string) =>
    (await berth.client.list<Release>(BerthTypes.Release, { namespace: NS })).items.filter((r) => r.spec.app === app).sort((a, b) => a.spec.version - b.spec.version);
  const envOf = async (r: Release) => {
    const s = await eventually("release secret", () => berth.client.get<Secret>(Types.Secret, NS, r.spec.envSecretName));
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));
  };

  before(async () => {
    berth = await startBerth();
    // A namespace left terminating by an earlier run must be gone before we apply.
    await eventually("no terminating examples namespace", async () => {
      const ns = await berth.client.getOrUndefined<KubeObject>(Types.Namespace, undefined, NS);
      return !ns?.metadata.deletionTimestamp;
    }, 90_000);
  });
  after(async () => {
    // While Berth still runs: the database's deletion waits for its bound app to go.
    await kubectl("delete", "-f", `${root}/examples/`, "--ignore-not-found", "--timeout=90s").catch(() => undefined);
    await berth.stop();
  });

  it("applies every example and each becomes Ready with pods Running on KWOK nodes", async () => {
    await kubectl("apply", "-f", `${root}/examples/`);
    await kubectl("wait", "--for=condition=Ready", "--timeout=90s", "-n", NS, "apps.berth.dev", "--all");
    await kubectl("wait", "--for=condition=Ready", "--timeout=60s", "-n", NS, "serviceinstances.berth.dev", "--all");
    await kubectl("wait", "--for=condition=Ready", "--timeout=60s", "-n", NS, "tokens.berth.dev", "--all");
    await kubectl("wait", "--for=condition=Ready", "--timeout=60s", "pools.berth.dev", "--all");
    const pods = JSON.parse(await kubectl("get", "pods", "-n", NS, "-o", "json")) as { items: { spec: { nodeName: string }; status: { phase: string } }[] };
    expect(pods.items.length).to.be.at.least(4);
    for (const p of pods.items) {
      expect(p.status.phase).to.equal("Running");
      expect(p.spec.nodeName).to.match(/^kwok-node-[01]$/); // the general pool's nodes
    }
    const app = await berth.client.get<App>(BerthTypes.App, NS, "hello");
    expect(app.status).to.include({ currentRelease: "v1", readySummary: "2/2" });
    expect(app.status?.urls).to.deep.equal(["http://hello.example.com"]);
    // The bound app received the database's credentials; the token's value is only in its Secret.
    expect(Object.keys(await envOf((await releases("orders"))[0]!))).to.include.members(["DATABASE_URL", "PGHOST"]);
    const token = await berth.client.get<KubeObject & { status: { tokenHash: string } }>(BerthTypes.Token, NS, "ci-deployer");
    expect(token.status.tokenHash).to.match(/^[0-9a-f]{64}$/);
  });

  it("treats a second apply as a no-op: no new release, no child rewritten", async () => {
    const before = (await berth.client.get<Deployment>(Types.Deployment, NS, "hello-web")).metadata.resourceVersion;
    const out = await kubectl("apply", "-f", `${root}/examples/`);
    expect(out.split("\n").filter((l) => l && !l.endsWith("unchanged"))).to.deep.equal([]);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await releases("hello")).map((r) => r.spec.version)).to.deep.equal([1]);
    expect((await berth.client.get<Deployment>(Types.Deployment, NS, "hello-web")).metadata.resourceVersion).to.equal(before);
  });

  it("makes an env change v2 and rolls the pods; restoring v1's content is v3, a rollback with v1's env", async () => {
    const patchEnv = (value: string) => kubectl("patch", "app", "hello", "-n", NS, "--type=merge", "-p", JSON.stringify({ spec: { env: [{ name: "GREETING", value }] } }));
    await patchEnv("bonjour");
    const v2 = await eventually("v2", async () => (await releases("hello"))[1]);
    expect(v2.spec.summary).to.equal("kubectl set GREETING");
    expect(await envOf(v2)).to.deep.equal({ GREETING: "bonjour" });
    await eventually("rolled out to v2", async () => {
      const d = await berth.client.get<Deployment>(Types.Deployment, NS, "hello-web");
      return d.spec.template.metadata.labels["berth.dev/release"] === "v2";
    });
    await kubectl("wait", "--for=condition=Ready", "--timeout=60s", "-n", NS, "app/hello");

    await patchEnv("hello");
    const v3 = await eventually("v3", async () => (await releases("hello"))[2]);
    expect(v3.spec.summary).to.equal("kubectl rolled back to v1");
    expect(v3.spec.rollbackOf).to.equal(1);
    expect(await envOf(v3)).to.deep.equal(await envOf((await releases("hello"))[0]!));
    expect(v3.spec.contentHash).to.equal((await releases("hello"))[0]!.spec.contentHash);
  });

  it("refuses an app whose team the pool does not allow, with the reason", async () => {
    const manifest = `apiVersion: berth.dev/v1alpha1
kind: App
metadata: {name: intruder, namespace: ${NS}}
spec: {image: nginx, owner: marketing, pool: dedicated, plan: large, processes: [{name: web}]}
`;
    await kubectlStdin(manifest, "apply", "-f", "-");
    const cond = await eventually("refused", async () => {
      const a = await berth.client.get<App>(BerthTypes.App, NS, "intruder");
      return a.status?.conditions?.find((c) => c.type === "Ready" && c.reason === "TeamNotAllowed");
    });
    expect(cond.message).to.equal('team "marketing" may not use pool "dedicated" (allowed: payments)');
    expect(await berth.client.getOrUndefined(Types.Deployment, NS, "intruder-web")).to.equal(undefined);
    await kubectl("delete", "app", "intruder", "-n", NS);
  });

  it("leaves nothing behind when an App is deleted", async () => {
    await kubectl("delete", "app", "hello", "-n", NS);
    await eventually("children garbage-collected", async () => {
      const left = await Promise.all([
        berth.client.getOrUndefined(Types.Deployment, NS, "hello-web"),
        berth.client.getOrUndefined(Types.Service, NS, "hello-web"),
        berth.client.getOrUndefined(Types.PodDisruptionBudget, NS, "hello-web"),
        berth.client.getOrUndefined(Types.Ingress, NS, "hello"),
        berth.client.getOrUndefined(Types.Secret, NS, "hello-v1-env"),
        releases("hello").then((r) => (r.length ? r : undefined)),
      ]);
      return left.every((x) => x === undefined);
    });
  });

  it("refuses every invalid example with a message a person understands", async () => {
    const expected: Record<string, RegExp> = {
      "app-autoscaling-min-max.yaml": /autoscaling.minReplicas must not be greater than autoscaling.maxReplicas/,
      "app-bad-process-name.yaml": /spec.processes\[0\].name.*should match/,
      "app-healthcheck-without-port.yaml": /an HTTP health check needs the process to expose a port/,
      "instance-bad-cidr.yaml": /source must be an IPv4 address or CIDR/,
      "token-user-with-roles.yaml": /only team tokens carry roles/,
      "instance-memory-not-multiple.yaml": /minTotalMemoryGb must be a multiple of 12/,
      "instance-development-bounds.yaml": /memory bounds .* are for production services only/,
      "cloud-key-two-roles.yaml": /a CloudKey belongs to a Team .* exactly one role/,
      "platform-image-without-registry.yaml": /image must name its registry host/,
    };
    const files = readdirSync(`${root}/examples/invalid`).sort();
    expect(files).to.deep.equal(Object.keys(expected).sort());
    for (const f of files) {
      const err = await kubectl("apply", "-f", `${root}/examples/invalid/${f}`).then(() => "accepted", (e: Error) => e.message);
      expect(err, f).to.match(expected[f]!);
    }
  });
});
