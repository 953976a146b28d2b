// What the cluster API dialect reads and writes besides Apps: the team's ClusterSettings
// (settings, log definitions, default loggers, event definitions), the team's secrets
// (Kubernetes Secrets in Berth's namespace, owned by the Team and labelled for it), and the
// change feed behind long polling on GET /v1/jobs.
import { Gauge, register } from "prom-client";
import type { KubeClient } from "../../kube/client.ts";
import { isConflict, isNotFound } from "../../kube/client.ts";
import type { KubeObject } from "../../kube/resource.ts";
import { Types, keyOf, ownerRef, resourcePath } from "../../kube/resource.ts";
import type { App, ClusterSettings, ClusterSettingsSpec, Team } from "../../model/kinds.ts";
import { BerthTypes, Labels } from "../../model/kinds.ts";
import type { Condition } from "../../runtime/conditions.ts";
import { getCondition } from "../../runtime/conditions.ts";
import type { Informer, InformerFactory } from "../../runtime/informer.ts";
import { cacheSynced } from "../read-your-writes.ts";
import { fromKubernetes } from "../errors.ts";
import { ClusterAnnotations, ClusterLabels, secretIdHash, secretObjectName, teamSecretValues } from "../../model/cluster-settings.ts";
import { writeLoggers } from "../../reconcilers/job-loggers.ts";

export { ClusterAnnotations, ClusterLabels, loggersConfigMap, secretObjectName } from "../../model/cluster-settings.ts";

type Secret = KubeObject & { data?: Record<string, string> };
export type Pod = KubeObject & {
  spec?: { nodeName?: string; containers?: { name: string }[] };
  status?: { phase?: string; reason?: string; conditions?: { type: string; status: string }[]; startTime?: string };
};
export type KubeEvent = KubeObject & {
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  reason?: string;
  message?: string;
  type?: string;
  lastTimestamp?: string;
  eventTime?: string;
  firstTimestamp?: string;
};


/**
 * Wakes long polls when anything a job view shows may have changed: an App or one of its pods
 * was added, changed or deleted in the shared caches. Waiting costs no API request: the
 * waiters only listen to the informers' watch, which is there anyway.
 */
export class ChangeFeed {
  private readonly waiters = new Set<() => void>();

  /** The index after the latest event: every event moves it past where it was. */
  private bumped = 0n;

  constructor(private readonly sources: Informer[]) {
    for (const inf of sources) inf.addHandler({ onAdd: () => this.wake(), onUpdate: () => this.wake(), onDelete: () => this.wake() });
  }

  private newestVersion(): bigint {
    let best = 0n;
    for (const inf of this.sources) {
      const rv = inf.reflector.lastResourceVersion;
      if (/^\d+$/.test(rv) && BigInt(rv) > best) best = BigInt(rv);
    }
    return best;
  }

  /**
   * The change index: the newest resourceVersion the caches have seen (etcd revisions grow),
   * and at least one more than before at every event, so that an event whose resourceVersion
   * is older than another cache's newest still moves the index (no change goes unannounced).
   */
  index(): string {
    const rv = this.newestVersion();
    return String(rv > this.bumped ? rv : this.bumped);
  }

  get waiting(): number {
    return this.waiters.size;
  }

  private wake(): void {
    this.bumped = BigInt(this.index()) + 1n;
    for (const w of [...this.waiters]) w();
  }

  /** Resolves at the next change, after timeoutMs, or when signal aborts; the waiter is freed in every case. */
  next(signal: AbortSignal, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener("abort", done);
      this.waiters.add(done);
    });
  }
}

/** Long polls waiting right now (GET /v1/jobs with the current waitIndex), over every ChangeFeed. */
const feeds = new Set<ChangeFeed>();
if (!register.getSingleMetric("berth_cluster_api_long_polls")) {
  new Gauge({
    name: "berth_cluster_api_long_polls",
    help: "Cluster API long polls (GET /v1/jobs with waitIndex) waiting for a change",
    collect() {
      this.set([...feeds].reduce((n, f) => n + f.waiting, 0));
    },
  });
}


export class ClusterStore {
  readonly feed: ChangeFeed;

  constructor(
    private readonly client: KubeClient,
    private readonly informers: InformerFactory,
    /** Berth's namespace: where the teams' secrets are kept. */
    readonly namespace: string,
  ) {
    this.settingsInformer();
    this.secretInformer().addIndex("team", (s) => [s.metadata.labels?.[ClusterLabels.team] ?? ""]);
    const pods = informers.informerFor<Pod>(Types.Pod, { labelSelector: `${Labels.managedBy}=berth` });
    this.feed = new ChangeFeed([informers.informerFor<App>(BerthTypes.App) as unknown as Informer, pods as unknown as Informer]);
    feeds.add(this.feed);
  }

  private settingsInformer() {
    return this.informers.informerFor<ClusterSettings>(BerthTypes.ClusterSettings);
  }
  private secretInformer() {
    return this.informers.informerFor<Secret>(Types.Secret, { namespace: this.namespace, labelSelector: ClusterLabels.secret });
  }
  /**
   * The cluster's Events, indexed by their object's namespace: cached from the first call that
   * reads them (GET /v1/events/results), not before, so operators whose users never ask do not
   * hold every Event of the cluster (three or more per app rollout) in memory.
   */
  async events(): Promise<Informer<KubeEvent>> {
    const inf = this.informers.informerFor<KubeEvent>(Types.Event);
    inf.addIndex("namespace", (e) => [e.involvedObject?.namespace ?? ""]);
    await inf.waitForSync();
    return inf;
  }

  /** The team's ClusterSettings spec as cached (an empty one when the team never wrote any). */
  spec(team: string): ClusterSettingsSpec {
    return this.settingsInformer().store.get(team)?.spec ?? { team };
  }

  /**
   * Rewrites the team's ClusterSettings spec: change computes the new spec from the current
   * one; a concurrent writer makes it start over on a fresh read (optimistic concurrency).
   */
  async updateSpec(team: string, teamObj: Team | undefined, change: (cur: ClusterSettingsSpec) => ClusterSettingsSpec): Promise<ClusterSettings> {
    for (let i = 0; ; i++) {
      try {
        const cur = await this.client.getOrUndefined<ClusterSettings>(BerthTypes.ClusterSettings, undefined, team);
        const spec = { ...change(cur?.spec ?? { team }), team };
        // A JSON patch, preconditioned on the resourceVersion read: the whole spec is replaced
        // (a merge patch would keep keys the new settings leave out), and a concurrent writer
        // makes the test fail (409 or 422), so this starts over.
        const written = cur
          ? await this.client.request<ClusterSettings>("PATCH", resourcePath(BerthTypes.ClusterSettings, undefined, team), {
              contentType: "application/json-patch+json",
              body: [
                { op: "test", path: "/metadata/resourceVersion", value: cur.metadata.resourceVersion },
                { op: "add", path: "/spec", value: spec },
              ],
            })
          : await this.client.create<ClusterSettings>(BerthTypes.ClusterSettings, {
              apiVersion: "berth.dev/v1alpha1",
              kind: "ClusterSettings",
              metadata: { name: team, labels: { [Labels.managedBy]: "berth", [ClusterLabels.team]: team }, ...(teamObj ? { ownerReferences: [ownerRef(teamObj, BerthTypes.Team)] } : {}) },
              spec,
            });
        await cacheSynced(this.settingsInformer().store as never, keyOf(written), written.metadata.resourceVersion);
        return written;
      } catch (e) {
        // 409: created meanwhile; 422: the resourceVersion test failed (written meanwhile).
        const status = (e as { status?: number }).status;
        if ((isConflict(e) || status === 409 || status === 422) && i < 20) continue;
        throw fromKubernetes(e, `the settings of team ${team}`);
      }
    }
  }

  /** Merges keys into the job's loggers ConfigMap (mounted into its pods), creating it owned by the App. */
  async writeLoggers(app: App, data: Record<string, string>): Promise<void> {
    try {
      await writeLoggers(this.client, app, data);
    } catch (e) {
      throw fromKubernetes(e, "loggers");
    }
  }

  /**
   * Waits until the ClusterSettings controller has reconciled the team's settings at generation
   * (or later), and answers its Ready condition; undefined when it has not within timeoutMs
   * (no controller running, or a slow one: the settings are stored and converge later).
   */
  async reconciled(team: string, generation: number | undefined, timeoutMs: number): Promise<Condition | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const ready = getCondition(this.settingsInformer().store.get(team)?.status?.conditions, "Ready");
      // PoolNotReady passes by itself (a pool created a moment ago gets its namespace): wait on.
      if (ready && (ready.observedGeneration ?? 0) >= (generation ?? 0) && ready.reason !== "PoolNotReady") return ready;
      if (Date.now() > end) return undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  secretIds(team: string): string[] {
    return this.secretInformer()
      .store.byIndex("team", team)
      .map((s) => s.metadata.annotations?.[ClusterAnnotations.secretId] ?? "")
      .filter(Boolean)
      .sort();
  }

  secret(team: string, id: string): Record<string, string> | undefined {
    return teamSecretValues(this.secretInformer().store.get(`${this.namespace}/${secretObjectName(team, id)}`), team, id);
  }

  /** Creates or replaces the secret's whole content (server-side apply: keys left out are removed). */
  async putSecret(team: string, teamObj: Team | undefined, id: string, values: Record<string, string>): Promise<void> {
    const name = secretObjectName(team, id);
    const obj: Secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name,
        namespace: this.namespace,
        labels: { [Labels.managedBy]: "berth", [ClusterLabels.team]: team, [ClusterLabels.secret]: secretIdHash(id).slice(0, 40) },
        annotations: { [ClusterAnnotations.secretId]: id },
        ...(teamObj ? { ownerReferences: [ownerRef(teamObj, BerthTypes.Team)] } : {}),
      },
      type: "Opaque",
      data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
    };
    try {
      const written = await this.client.apply<Secret>(Types.Secret, obj, "berth-cluster-api", { force: true });
      await cacheSynced(this.secretInformer().store as never, keyOf(written), written.metadata.resourceVersion);
    } catch (e) {
      throw fromKubernetes(e, `secret ${id}`);
    }
  }

  /** Deletes the secret; false when there was none. */
  async deleteSecret(team: string, id: string): Promise<boolean> {
    if (!this.secret(team, id)) return false;
    const name = secretObjectName(team, id);
    try {
      await this.client.delete(Types.Secret, this.namespace, name);
    } catch (e) {
      if (isNotFound(e)) return false;
      throw fromKubernetes(e, `secret ${id}`);
    }
    await cacheSynced(this.secretInformer().store as never, `${this.namespace}/${name}`, undefined);
    return true;
  }
}
