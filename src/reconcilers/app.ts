// App reconciler: one App in, its Releases, Deployments, Services, HPA, PDBs and Ingress out.
// 1. admission: pool and plan must allow the app (else Ready=False with the reason);
// 2. environment: plain + private (Secret) + service bindings;
// 3. a new Release when the content changed (v1, v2, ...), with an immutable env Secret;
// 4. children from the current release, applied only when they differ from the last apply;
// 5. prune old releases; 6. status from the Deployments, written when it has news (a new
//    App's rollout in progress is held back a while: it is usually Ready by then, and one
//    status write says so; desired/status-timing.ts).
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject, ResourceType } from "../kube/resource.ts";
import { Types, keyOf } from "../kube/resource.ts";
import type { App, AppStatus, Plan, Pool, Process, ProcessStatus, Release, ServiceClass, ServiceInstance } from "../model/kinds.ts";
import { BerthTypes, Labels } from "../model/kinds.ts";
import { applyIfChanged } from "../runtime/apply-if-changed.ts";
import type { Condition } from "../runtime/conditions.ts";
import { setCondition } from "../runtime/conditions.ts";
import type { EventRecorder } from "../runtime/events.ts";
import type { InformerFactory } from "../runtime/informer.ts";
import { RecentWrites } from "../runtime/recent-writes.ts";
import { statusUnchanged, updateStatus } from "../runtime/status.ts";
import type { ObjectKey, ReconcileContext, ReconcileResult, Reconciler } from "../runtime/types.ts";
import { admit, planFor, poolFor } from "./desired/admission.ts";
import type { PodLike } from "./desired/pod-problems.ts";
import { imageProblem } from "./desired/pod-problems.ts";
import { bindingEnv } from "./desired/bindings.ts";
import type { EnvSources, ReleaseContent } from "./desired/release.ts";
import { contentHash, desiredReleaseSecret, latestRelease, nextRelease, releasesToPrune } from "./desired/release.ts";
import { STATUS_WINDOW_MS, holdStatusMs } from "./desired/status-timing.ts";
import { appURLs, desiredDeployment, desiredHPA, desiredIngress, desiredPDB, desiredReplicas, desiredService, workloadName } from "./desired/workloads.ts";

type Deployment = KubeObject & {
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; updatedReplicas?: number; replicas?: number; observedGeneration?: number };
};
type ObservedProcess = ProcessStatus & { total: number };

const MANAGED = { labelSelector: `${Labels.managedBy}=berth` };
/** Index of the children caches: "namespace/app" from the app label. */
const OF_APP = "app";
/** Only pods that have not started are cached (a handful, even with thousands of apps running). */
export const PENDING_PODS = { labelSelector: `${Labels.managedBy}=berth`, fieldSelector: "status.phase=Pending" };
export const APP_CHILDREN: ResourceType[] = [Types.Deployment, Types.Service, Types.HorizontalPodAutoscaler, Types.PodDisruptionBudget, Types.Ingress];

/** A released process with the unit count the App asks for now (0 when the App dropped it). */
function withSpecReplicas(app: App, released: Process): Process {
  const current = app.spec.processes.find((x) => x.name === released.name);
  return { ...released, replicas: current ? current.replicas : 0 };
}

class NotReady extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class AppReconciler implements Reconciler {
  /** Writes not yet seen in the caches: a reconcile before the watch catches up does not repeat them. */
  private readonly recent = new RecentWrites();
  /** Since when each App's rollout status has been held back. */
  private readonly heldSince = new Map<string, number>();

  constructor(
    private readonly client: KubeClient,
    private readonly informers: InformerFactory,
    private readonly events: EventRecorder,
    private readonly statusWindowMs = STATUS_WINDOW_MS,
  ) {
    // An App's children by "namespace/app": a reconcile reads its own, not its namespace's.
    for (const t of APP_CHILDREN) this.cache(t, MANAGED).addIndex(OF_APP, (o) => (o.metadata.labels?.[Labels.app] ? [`${o.metadata.namespace}/${o.metadata.labels[Labels.app]}`] : []));
  }

  private cache<T extends KubeObject>(t: ResourceType, selector = {}) {
    return this.informers.informerFor<T>(t, selector).store;
  }

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const app = this.cache<App>(BerthTypes.App).get(`${key.namespace}/${key.name}`);
    if (!app || app.metadata.deletionTimestamp) {
      this.heldSince.delete(`${key.namespace}/${key.name}`);
      return;
    }
    const pool = poolFor(app, this.cache<Pool>(BerthTypes.Pool).list());
    const plan = planFor(app, this.cache<Plan>(BerthTypes.Plan).list());
    const admission = admit(app, pool, plan);
    if (!admission.ok) {
      await this.events.record(app, "Warning", admission.reason, admission.message);
      await this.writeStatus(app, { ...app.status, conditions: this.refused(app, admission.reason, admission.message) });
      return;
    }

    let content: ReleaseContent;
    let sources: EnvSources;
    try {
      const env = await this.environment(app);
      // Unit counts are not release content: scaling is not a release (as in tsuru and Deis).
      content = { image: app.spec.image, processes: app.spec.processes.map(({ replicas: _r, ...rest }) => rest), env: env.all };
      sources = { publicNames: env.publicNames, privateNames: env.privateNames };
    } catch (e) {
      if (!(e instanceof NotReady)) throw e;
      await this.writeStatus(app, { ...app.status, conditions: this.refused(app, e.reason, e.message) });
      return { requeueAfterMs: 5_000 };
    }

    const releases = this.cache<Release>(BerthTypes.Release).byIndex("app", `${key.namespace}/${key.name}`);
    let current = latestRelease(releases);
    // The previous release's env (for the summary) is read only when a release is due.
    const hash = contentHash(content);
    const due = current?.spec.contentHash !== hash;
    // Made a moment ago and not in the cache yet: its watch event will bring the App back here.
    const releaseKey = `releases/${key.namespace}/${key.name}`;
    if (due && this.recent.written(releaseKey, current?.metadata.resourceVersion, hash)) return { requeueAfterMs: 1_000 };
    const created = due ? nextRelease(app, releases, content, current ? await this.releaseEnv(current) : undefined, sources) : undefined;
    if (created) {
      const basis = current?.metadata.resourceVersion;
      current = await this.client.create<Release>(BerthTypes.Release, created);
      this.recent.remember(releaseKey, basis, hash);
      await this.client.create(Types.Secret, desiredReleaseSecret(current, content.env));
      this.rememberSecret(current);
      ctx.log.info("created release", { release: current.metadata.name, summary: current.spec.summary });
      // v1 is the App's creation, which the App and Release v1 show; Events tell of changes.
      if (current.spec.version > 1) await this.events.record(app, "Normal", "Released", `v${current.spec.version}: ${current.spec.summary}`);
    }
    if (!current) return;
    if (!created) await this.ensureReleaseSecret(current, content.env);

    await this.applyChildren(app, current, { pool, plan });
    await this.prune(app, releases, current);
    const holdMs = await this.writeStatus(app, this.observe(app, current), true);
    return holdMs > 0 ? { requeueAfterMs: holdMs } : undefined;
  }

  private refused(app: App, reason: string, message: string): Condition[] {
    const gen = app.metadata.generation;
    let c = setCondition(app.status?.conditions, { type: "Ready", status: "False", reason, message, observedGeneration: gen });
    c = setCondition(c, { type: "Degraded", status: "True", reason, message, observedGeneration: gen });
    return c;
  }

  private async environment(app: App): Promise<{ all: Record<string, string>; publicNames: string[]; privateNames: string[] }> {
    const env: Record<string, string> = {};
    const privateNames: string[] = [];
    for (const v of app.spec.env ?? []) env[v.name] = v.value ?? "";
    if (app.spec.privateEnvSecret) {
      const s = await this.client.getOrUndefined<KubeObject & { data?: Record<string, string> }>(Types.Secret, app.metadata.namespace, app.spec.privateEnvSecret);
      if (!s) throw new NotReady("PrivateEnvMissing", `the Secret "${app.spec.privateEnvSecret}" with the private environment does not exist`);
      // Write access to an App must not read any Secret of the namespace: only a Secret made
      // for this app (labelled with its name, as Berth's own are) is taken.
      if (s.metadata.labels?.[Labels.app] !== app.metadata.name) {
        throw new NotReady("PrivateEnvNotTrusted", `the Secret "${app.spec.privateEnvSecret}" is not labelled ${Labels.app}=${app.metadata.name}; private environment is read only from Secrets made for this app`);
      }
      for (const [k, v] of Object.entries(s.data ?? {})) {
        env[k] = Buffer.from(v, "base64").toString("utf8");
        privateNames.push(k);
      }
    }
    for (const b of app.spec.serviceBindings ?? []) {
      const inst = this.cache<ServiceInstance>(BerthTypes.ServiceInstance).get(`${app.metadata.namespace}/${b.name}`);
      const cls = inst && this.cache<ServiceClass>(BerthTypes.ServiceClass).get(inst.spec.serviceClass);
      const secretName = inst?.status?.secretName;
      if (!inst || !cls || !secretName) throw new NotReady("BindingNotReady", `service instance "${b.name}" is not ready yet`);
      const s = await this.client.getOrUndefined<KubeObject & { data?: Record<string, string> }>(Types.Secret, app.metadata.namespace, secretName);
      if (!s) throw new NotReady("BindingNotReady", `credentials of service instance "${b.name}" are not ready yet`);
      const creds = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
      Object.assign(env, bindingEnv(cls, creds));
    }
    return { all: env, publicNames: (app.spec.env ?? []).map((v) => v.name), privateNames };
  }

  private async releaseEnv(r: Release): Promise<Record<string, string> | undefined> {
    const s = await this.client.getOrUndefined<KubeObject & { data?: Record<string, string> }>(Types.Secret, r.metadata.namespace, r.spec.envSecretName);
    return s && Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
  }

  /** After a crash between creating a release and its Secret, the Secret is created here. */
  private async ensureReleaseSecret(r: Release, env: Record<string, string>): Promise<void> {
    if (this.knownSecrets.has(r.metadata.uid ?? "")) return;
    const deps = this.cache<Deployment>(Types.Deployment, MANAGED).byIndex(OF_APP, `${r.metadata.namespace}/${r.spec.app}`);
    const rolledOut = deps.length > 0 && deps.every((d) => d.metadata.labels?.[Labels.release] === `v${r.spec.version}`);
    if (rolledOut) return;
    if (!(await this.client.getOrUndefined(Types.Secret, r.metadata.namespace, r.spec.envSecretName))) {
      await this.client.create(Types.Secret, desiredReleaseSecret(r, env));
    }
    this.rememberSecret(r);
  }

  /** Release Secrets known to exist (immutable, owned by their Release): no need to look again. */
  private readonly knownSecrets = new Set<string>();
  private rememberSecret(r: Release): void {
    if (this.knownSecrets.size > 50_000) this.knownSecrets.clear();
    this.knownSecrets.add(r.metadata.uid ?? "");
  }

  private async applyChildren(app: App, release: Release, placement: { pool?: Pool; plan?: Plan }): Promise<void> {
    const ns = app.metadata.namespace;
    const name = app.metadata.name ?? "";
    const desired = new Map<ResourceType, KubeObject[]>(APP_CHILDREN.map((t) => [t, []]));
    for (const released of release.spec.processes) {
      const p = withSpecReplicas(app, released);
      desired.get(Types.Deployment)!.push(desiredDeployment(app, release, p, placement));
      const svc = desiredService(app, p);
      if (svc) desired.get(Types.Service)!.push(svc);
      const pdb = desiredPDB(app, p);
      if (pdb) desired.get(Types.PodDisruptionBudget)!.push(pdb);
    }
    const hpa = desiredHPA(app);
    if (hpa) desired.get(Types.HorizontalPodAutoscaler)!.push(hpa);
    const ing = desiredIngress(app, placement.pool);
    if (ing) desired.get(Types.Ingress)!.push(ing);

    for (const [type, objs] of desired) {
      const store = this.cache<KubeObject>(type, MANAGED);
      for (const o of objs) await applyIfChanged(this.client, type, o, store.get(`${ns}/${o.metadata.name}`), this.recent);
      // Children of processes (or features) that are gone.
      const keep = new Set(objs.map((o) => o.metadata.name));
      for (const existing of store.byIndex(OF_APP, `${ns}/${name}`)) {
        const owned = existing.metadata.ownerReferences?.some((r) => r.controller && r.kind === "App" && r.uid === app.metadata.uid);
        if (owned && !keep.has(existing.metadata.name)) {
          await this.client.delete(type, ns, existing.metadata.name ?? "").catch(() => undefined);
        }
      }
    }
  }

  private async prune(app: App, releases: Release[], current: Release): Promise<void> {
    for (const r of releasesToPrune(releases, app.spec.releaseHistoryLimit ?? 10, current.spec.version)) {
      await this.client.delete(BerthTypes.Release, r.metadata.namespace, r.metadata.name ?? "", { propagationPolicy: "Background" }).catch(() => undefined);
    }
  }

  private observe(app: App, release: Release): AppStatus {
    const ns = app.metadata.namespace;
    const name = app.metadata.name ?? "";
    const deps = this.cache<Deployment>(Types.Deployment, MANAGED);
    const version = `v${release.spec.version}`;
    const observed: ObservedProcess[] = release.spec.processes.map((released) => {
      const p = withSpecReplicas(app, released);
      const d = deps.get(`${ns}/${workloadName(name, p.name)}`);
      const desired = d?.spec?.replicas ?? desiredReplicas(app, p);
      const current = d?.metadata.labels?.[Labels.release] === version && (d.status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
      return {
        name: p.name,
        desired,
        ready: current ? (d?.status?.readyReplicas ?? 0) : 0,
        updated: current ? (d?.status?.updatedReplicas ?? 0) : 0,
        total: d?.status?.replicas ?? 0,
      };
    });
    const processes: ProcessStatus[] = observed.map(({ total: _total, ...p }) => p);
    const desired = processes.reduce((n, p) => n + p.desired, 0);
    const ready = processes.reduce((n, p) => n + Math.min(p.ready, p.desired), 0);
    // Complete as `kubectl rollout status` means it: new units ready and old ones gone.
    const allReady = observed.every((p) => p.ready >= p.desired && (p.updated ?? 0) >= p.desired && p.total <= p.desired);
    const gen = app.metadata.generation;
    const state = app.spec.state ?? "Running";
    const pending = allReady ? [] : this.cache<PodLike>(Types.Pod, PENDING_PODS).list(ns).filter((p) => p.metadata.labels?.[Labels.app] === name && p.metadata.labels?.[Labels.release] === version);
    const problem = imageProblem(pending);
    let conditions = setCondition(app.status?.conditions, {
      type: "Ready",
      status: allReady ? "True" : "False",
      reason: allReady ? (state === "Running" ? "Running" : state) : (problem?.reason ?? "RollingOut"),
      message: allReady ? `${version}: ${ready}/${desired} units ready` : `${version} rolling out: ${ready}/${desired} units ready${problem ? `; ${problem.message}` : ""}`,
      observedGeneration: gen,
    });
    conditions = setCondition(conditions, {
      type: "Progressing",
      status: allReady ? "False" : "True",
      reason: allReady ? "RolloutComplete" : "RollingOut",
      message: allReady ? `${version} is fully rolled out` : `rolling out ${version}`,
      observedGeneration: gen,
    });
    conditions = setCondition(conditions, { type: "Degraded", status: "False", reason: "AsExpected", message: "", observedGeneration: gen });
    return {
      observedGeneration: gen,
      currentRelease: version,
      currentReleaseVersion: release.spec.version,
      state,
      readySummary: `${ready}/${desired}`,
      urls: appURLs(app),
      processes,
      conditions,
    };
  }

  /** Writes status, or (with mayHold) returns how long to hold a rollout-in-progress status back. */
  private async writeStatus(app: App, status: AppStatus, mayHold = false): Promise<number> {
    const key = keyOf(app);
    const next = { ...status, observedGeneration: app.metadata.generation };
    if (mayHold && !statusUnchanged(app, next)) {
      const now = Date.now();
      const holdMs = holdStatusMs(app.status, next, app.metadata.generation, this.heldSince.get(key), now, this.statusWindowMs);
      if (holdMs > 0) {
        if (!this.heldSince.has(key)) this.heldSince.set(key, now);
        return holdMs;
      }
    }
    this.heldSince.delete(key);
    await updateStatus(this.client, BerthTypes.App, app, next, this.recent);
    return 0;
  }
}
