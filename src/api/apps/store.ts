// Apps, pools, plans and releases as every dialect needs them: cached reads by the names
// users type, and writes that wait until the cache has seen them.
import type { KubeClient } from "../../kube/client.ts";
import { isAlreadyExists } from "../../kube/client.ts";
import type { KubeObject, ResourceType } from "../../kube/resource.ts";
import { Types, keyOf } from "../../kube/resource.ts";
import { updateWithRetry } from "../../kube/optimistic.ts";
import type { App, AppSpec, Plan, Pool, Release } from "../../model/kinds.ts";
import { Annotations, BerthTypes, Labels } from "../../model/kinds.ts";
import { poolNamespace } from "../../reconcilers/pool.ts";
import { changePrivateEnv, privateEnvSecretName, readPrivateEnv, setPrivateEnv } from "../../reconcilers/private-env.ts";
import type { InformerFactory } from "../../runtime/informer.ts";
import { cacheSynced } from "../read-your-writes.ts";
import { isTrue } from "../../runtime/conditions.ts";
import { ApiError, badRequest, conflict, fromKubernetes, notFound } from "../errors.ts";

/** A spec change: what to merge-patch, or a function of the current App that says it (undefined: nothing to do). */
export type SpecChange = Partial<AppSpec> | Record<string, unknown> | ((current: App) => Partial<AppSpec> | Record<string, unknown> | undefined);

type Pod = KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string; podIP?: string; hostIP?: string; conditions?: { type: string; status: string }[] } };
type Secret = KubeObject & { data?: Record<string, string> };

/** The App has run release minVersion (or later) to completion: its spec observed, its units ready. */
export const rolledOut = (a: App | undefined, minVersion: number): boolean =>
  !!a && (a.status?.currentReleaseVersion ?? 0) >= minVersion && a.status?.observedGeneration === a.metadata.generation && isTrue(a.status?.conditions, "Ready");

export class AppStore {
  constructor(
    readonly client: KubeClient,
    private readonly informers: InformerFactory,
    /** Whether to cache Berth's pods (units); the git endpoint, which shows none, does not. */
    cachePods = true,
  ) {
    informers.informerFor<App>(BerthTypes.App).addIndex("name", (a) => [a.metadata.name ?? ""]);
    informers.informerFor<Release>(BerthTypes.Release).addIndex("app", (r) => [`${r.metadata.namespace}/${r.spec.app}`]);
    if (cachePods) informers.informerFor<Pod>(Types.Pod, { labelSelector: `${Labels.managedBy}=berth` }).addIndex("app", (p) => [`${p.metadata.namespace}/${p.metadata.labels?.[Labels.app] ?? ""}`]);
  }

  private store<T extends KubeObject>(t: ResourceType) {
    return this.informers.informerFor<T>(t).store;
  }

  app(name: string): App | undefined {
    return this.store<App>(BerthTypes.App).byIndex("name", name)[0];
  }

  requireApp(name: string): App {
    const a = this.app(name);
    if (!a) throw notFound(`App ${name} not found.`);
    return a;
  }

  apps(): App[] {
    return this.store<App>(BerthTypes.App).list();
  }

  pools(): Pool[] {
    return this.store<Pool>(BerthTypes.Pool).list();
  }

  pool(name: string): Pool | undefined {
    return this.store<Pool>(BerthTypes.Pool).get(name);
  }

  plans(): Plan[] {
    return this.store<Plan>(BerthTypes.Plan).list();
  }

  plan(name: string): Plan | undefined {
    return this.store<Plan>(BerthTypes.Plan).get(name);
  }

  releases(app: App): Release[] {
    return this.store<Release>(BerthTypes.Release)
      .byIndex("app", `${app.metadata.namespace}/${app.metadata.name}`)
      .sort((a, b) => a.spec.version - b.spec.version);
  }

  pods(app: App): Pod[] {
    return this.informers.informerFor<Pod>(Types.Pod, { labelSelector: `${Labels.managedBy}=berth` }).store.byIndex("app", `${app.metadata.namespace}/${app.metadata.name}`);
  }

  /** Waits (briefly) until the cache holds the object at rv, or has dropped it (rv undefined). */
  synced(t: ResourceType, key: string, rv: string | undefined): Promise<void> {
    return cacheSynced(this.informers.informerFor(t).store, key, rv);
  }

  /** Waits until pred holds for the cached app (e.g. its status caught up), up to timeoutMs. */
  async waitFor(app: App, pred: (a: App | undefined) => boolean, timeoutMs: number, tick?: (a: App | undefined) => void): Promise<App | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const cur = this.store<App>(BerthTypes.App).get(keyOf(app));
      tick?.(cur);
      if (pred(cur) || Date.now() > end) return cur;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** The version the App's next release will have. */
  nextVersion(app: App): number {
    return Math.max(0, app.status?.currentReleaseVersion ?? 0, ...this.releases(app).map((r) => r.spec.version)) + 1;
  }

  /**
   * After a spec change, waits until the controller has observed it (it writes the release it
   * made, if any, in the same status update): the release version the app runs now. A write that
   * changed nothing the controller acts on answers at once. Bounded by timeoutMs.
   */
  async observed(updated: App, timeoutMs = 30_000): Promise<{ app: App; version: number }> {
    const gen = updated.metadata.generation ?? 0;
    const done = await this.waitFor(updated, (a) => !!a && (a.status?.observedGeneration ?? 0) >= gen, timeoutMs);
    const app = done ?? updated;
    return { app, version: app.status?.currentReleaseVersion ?? 1 };
  }

  namespaceFor(pool: Pool): string {
    return pool.status?.namespace ?? poolNamespace(pool);
  }

  async create(name: string, spec: AppSpec, pool: Pool, actor: string, meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): Promise<App> {
    if (this.app(name)) throw conflict(`there is already an app with the name "${name}"`);
    // A pool created a moment ago may not have its namespace yet.
    const ns = this.namespaceFor(pool);
    for (let i = 0; i < 50 && !(await this.client.getOrUndefined(Types.Namespace, undefined, ns)); i++) await new Promise((r) => setTimeout(r, 100));
    try {
      const app = await this.client.create<App>(BerthTypes.App, {
        metadata: { name, namespace: this.namespaceFor(pool), ...(meta.labels ? { labels: meta.labels } : {}), annotations: { ...meta.annotations, [Annotations.actor]: actor } },
        spec,
      });
      await this.synced(BerthTypes.App, keyOf(app), app.metadata.resourceVersion);
      return app;
    } catch (e) {
      if (isAlreadyExists(e)) throw conflict(`there is already an app with the name "${name}"`);
      throw fromKubernetes(e, `app ${name}`);
    }
  }

  /**
   * Changes the App's spec, recording who made the change. A function computes the change
   * from the current App and is retried on a fresh read when another writer got there first
   * (use it whenever the change depends on what is there, e.g. adding to a list); a plain
   * object is merge-patched as it is (for values that replace what is there).
   */
  async patch(app: App, change: SpecChange, actor: string): Promise<App> {
    if (app.spec.locked && !(typeof change === "object" && "locked" in change)) throw new ApiError(423, `App ${app.metadata.name} is locked.`);
    const ns = app.metadata.namespace;
    const name = app.metadata.name ?? "";
    const withActor = (spec: Record<string, unknown>) => ({ metadata: { annotations: { [Annotations.actor]: actor } }, spec });
    try {
      const updated =
        typeof change === "function"
          ? await updateWithRetry<App>(this.client, BerthTypes.App, ns, name, (cur) => {
              const spec = change(cur);
              return spec && withActor(spec);
            }, app)
          : await this.client.mergePatch<App>(BerthTypes.App, ns, name, withActor(change));
      await this.synced(BerthTypes.App, keyOf(updated), updated.metadata.resourceVersion);
      return updated;
    } catch (e) {
      throw fromKubernetes(e, `app ${app.metadata.name}`);
    }
  }

  async remove(app: App): Promise<void> {
    try {
      await this.client.delete(BerthTypes.App, app.metadata.namespace, app.metadata.name ?? "", { propagationPolicy: "Background" });
      await this.client.delete(Types.Secret, app.metadata.namespace, privateEnvSecretName(app.metadata.name ?? "")).catch(() => undefined);
      await this.synced(BerthTypes.App, keyOf(app), undefined);
    } catch (e) {
      throw fromKubernetes(e, `app ${app.metadata.name}`);
    }
  }

  privateEnv(app: App): Promise<Record<string, string>> {
    return readPrivateEnv(this.client, app);
  }

  /** Replaces the private environment Secret's content (owned by the App). */
  async setPrivateEnv(app: App, env: Record<string, string>): Promise<string> {
    try {
      return await setPrivateEnv(this.client, app, env);
    } catch (e) {
      throw fromKubernetes(e, "private environment");
    }
  }

  /** Sets and removes keys of the App's private environment Secret (reconcilers/private-env.ts). */
  async changePrivateEnv(app: App, set: Record<string, string>, unset: string[]): Promise<string> {
    try {
      return await changePrivateEnv(this.client, app, set, unset);
    } catch (e) {
      throw fromKubernetes(e, "private environment");
    }
  }

  /**
   * The spec change that restores release target: its image, processes (keeping today's unit
   * counts: scaling is not a release) and env, plain and private. Writes the private Secret.
   */
  async rollbackPatch(app: App, target: Release): Promise<Partial<AppSpec>> {
    const env = await this.releaseEnv(target);
    const publicNames = new Set(target.spec.publicEnvNames ?? []);
    const privateNames = new Set(target.spec.privateEnvNames ?? []);
    const priv = Object.fromEntries(Object.entries(env).filter(([k]) => privateNames.has(k)));
    const secret = privateNames.size || app.spec.privateEnvSecret ? await this.setPrivateEnv(app, priv) : undefined;
    return {
      image: target.spec.image,
      processes: target.spec.processes.map((tp) => ({ ...tp, replicas: app.spec.processes.find((x) => x.name === tp.name)?.replicas ?? 1 })),
      env: Object.entries(env)
        .filter(([k]) => publicNames.has(k))
        .map(([name, value]) => ({ name, value })),
      ...(secret ? { privateEnvSecret: secret } : {}),
    };
  }

  async releaseEnv(release: Release): Promise<Record<string, string>> {
    const s = await this.client.getOrUndefined<Secret>(Types.Secret, release.metadata.namespace, release.spec.envSecretName);
    if (!s) throw badRequest(`the environment of ${release.metadata.name} is gone`);
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
  }
}
