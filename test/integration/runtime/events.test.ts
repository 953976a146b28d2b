// Events on the real API server: repeats bump one Event's count; a flapping object is capped.
import { expect } from "chai";
import type { KubeObject } from "../../../src/kube/resource.ts";
import { Types } from "../../../src/kube/resource.ts";
import { silentLogger } from "../../../src/log.ts";
import { EventRecorder } from "../../../src/runtime/events.ts";
import { deleteNamespace, testNamespace } from "../support/kube.ts";
import { client, source } from "./support.ts";

type Event = KubeObject & { count?: number; reason?: string; involvedObject?: { uid?: string } };

describe("event recorder", function () {
  let ns = "";
  before(async () => {
    ns = await testNamespace("events");
  });
  after(async () => {
    await deleteNamespace(ns);
  });

  it("bumps one Event's count for repeats, and stops writing past an object's burst", async () => {
    const kube = await client();
    const obj = await kube.create(Types.ConfigMap, source("flappy", ns, {}));
    const events = (o: KubeObject) => kube.list<Event>(Types.Event, { namespace: ns }).then((l) => l.items.filter((e) => e.involvedObject?.uid === o.metadata.uid));

    const repeats = new EventRecorder(kube, silentLogger(), { repeatIntervalMs: 0 });
    for (let i = 0; i < 5; i++) await repeats.record({ ...obj, apiVersion: "v1", kind: "ConfigMap" }, "Normal", "Synced", "all good");
    const one = await events(obj);
    expect(one).to.have.length(1);
    expect(one[0]?.count).to.equal(5);

    const other = await kube.create(Types.ConfigMap, source("flappier", ns, {}));
    const capped = new EventRecorder(kube, silentLogger(), { burst: 3, refillEveryMs: 3_600_000 });
    for (let i = 0; i < 10; i++) await capped.record({ ...other, apiVersion: "v1", kind: "ConfigMap" }, "Warning", "Flap", `state ${i}`);
    expect(await events(other)).to.have.length(3);
    kube.close();
  });
});
