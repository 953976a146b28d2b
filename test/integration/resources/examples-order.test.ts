// The README's quickstart in any order: each file of examples/ applied on its own, in reverse
// order (instances before their ServiceClass, apps before their pool and plans), with Berth
// already running; everything still becomes Ready. Only the namespace comes first: kubectl
// refuses namespaced objects without it.
import { readdirSync } from "node:fs";
import type { KubeObject } from "../../../src/kube/resource.ts";
import { Types } from "../../../src/kube/resource.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import { eventually, kubectl } from "../support/kube.ts";

const root = process.env.BERTH_ROOT ?? process.cwd();
const NS = "berth-examples";

describe("resource model (examples/ in any order)", function () {
  this.timeout(240_000);
  let berth: RunningBerth;

  before(async () => {
    berth = await startBerth();
    await eventually("no terminating examples namespace", async () => {
      const ns = await berth.client.getOrUndefined<KubeObject>(Types.Namespace, undefined, NS);
      return !ns?.metadata.deletionTimestamp;
    }, 90_000);
  });
  after(async () => {
    await kubectl("delete", "-f", `${root}/examples/`, "--ignore-not-found", "--timeout=90s").catch(() => undefined);
    await eventually("examples namespace gone", async () => !(await berth.client.getOrUndefined<KubeObject>(Types.Namespace, undefined, NS)), 120_000).catch(() => undefined);
    await berth.stop();
  });

  it("converges when the files are applied one by one in reverse order", async () => {
    const files = readdirSync(`${root}/examples`).filter((f) => f.endsWith(".yaml")).sort().reverse();
    const namespace = files.filter((f) => f.includes("namespace"));
    for (const f of [...namespace, ...files.filter((x) => !namespace.includes(x))]) {
      await kubectl("apply", "-f", `${root}/examples/${f}`);
      await new Promise((r) => setTimeout(r, 1000)); // let the controllers see each file alone
    }
    await kubectl("wait", "--for=condition=Ready", "--timeout=120s", "-n", NS, "apps.berth.dev", "--all");
    await kubectl("wait", "--for=condition=Ready", "--timeout=60s", "-n", NS, "serviceinstances.berth.dev", "--all");
  });
});
