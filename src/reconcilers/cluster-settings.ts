// ClusterSettings reconciler: converges a team's jobs from its settings document, whoever wrote
// it (POST /v1/settings, or kubectl apply in a GitOps flow). Each job is an App in the default
// pool's namespace (task groups are process types; new ones start at countInit, counts that
// exist are kept and clamped to countMax), labelled for the team and owned by the
// ClusterSettings (deleting the settings deletes the jobs, by garbage collection); a job left
// out of the settings is deleted. A job's secrets become the App's private environment, the
// team's default logger levels go into each job's loggers ConfigMap. Status: Ready=True
// (Converged), or False with the reason a job could not be converged.
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/client.ts";
import type { KubeObject } from "../kube/resource.ts";
import { Types, ownerRef } from "../kube/resource.ts";
import { updateWithRetry } from "../kube/optimistic.ts";
import type { App, AppSpec, ClusterSettings, Pool, Team } from "../model/kinds.ts";
import { Annotations, BerthTypes } from "../model/kinds.ts";
import type { JobSettings } from "../model/cluster-settings.ts";
import { ClusterAnnotations, ClusterLabels, countsOf, defaultLoggerKeys, jobProcesses, secretObjectName, teamSecretValues, validateSettings } from "../model/cluster-settings.ts";
import { setCondition } from "../runtime/conditions.ts";
import type { InformerFactory } from "../runtime/informer.ts";
import { updateStatus } from "../runtime/status.ts";
import type { ObjectKey, ReconcileResult, Reconciler } from "../runtime/types.ts";
import { writeLoggers } from "./job-loggers.ts";
import { poolNamespace } from "./pool.ts";
import { readPrivateEnv, setPrivateEnv } from "./private-env.ts";

type Secret = KubeObject & { data?: Record<string, string> };

/** Why a job could not be converged (the Ready condition's reason). */
export type JobProblem = "NameTaken" | "SecretMissing" | "NoDefaultPool" | "PoolNotReady";

/** The pool new jobs go to: the default one, else a public one. */
export const jobPool = (pools: Pool[]): Pool | undefined => pools.find((p) => p.spec.default) ?? pools.find((p) => p.spec.public);

const sameJSON = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const sameEnv = (a: Record<string, string>, b: Record<string, string>) => sameJSON(Object.entries(a).sort(), Object.entries(b).sort());
const envOf = (job: JobSettings) => Object.entries(job.env).map(([name, value]) => ({ name, value }));

export class ClusterSettingsReconciler implements Reconciler {
  constructor(
    private readonly client: KubeClient,
    private readonly informers: InformerFactory,
    /** Berth's namespace: where the teams' secrets are kept. */
    private readonly namespace: string,
  ) {}

  private get apps() {
    return this.informers.informerFor<App>(BerthTypes.App).store;
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult | void> {
    const cs = this.informers.informerFor<ClusterSettings>(BerthTypes.ClusterSettings).store.get(key.name);
    if (!cs || cs.metadata.deletionTimestamp) return;
    const team = cs.spec.team;
    const problems: { reason: JobProblem | "InvalidSettings" | "UnknownTeam"; message: string }[] = [];
    const r = validateSettings(cs.spec.settings ?? {});
    const teamObj = this.informers.informerFor<Team>(BerthTypes.Team).store.get(team);
    if (!r.settings) problems.push({ reason: "InvalidSettings", message: `invalid settings: ${r.errors.map((e) => `${e.message} (${e.rule})`).join("; ")}` });
    else if (cs.metadata.name !== team) problems.push({ reason: "UnknownTeam", message: `a team's settings are named after the team: ${cs.metadata.name} is not ${team}` });
    else if (!teamObj) problems.push({ reason: "UnknownTeam", message: `no team ${team}` });
    let requeue = false;
    const converged: string[] = [];
    // Nothing is changed while the document is invalid: the jobs stay as the last valid one left them.
    if (r.settings && !problems.length) {
      for (const job of r.settings.jobs) {
        const problem = await this.convergeJob(cs, job);
        if (problem) {
          problems.push(problem);
          requeue ||= problem.reason === "PoolNotReady";
        } else converged.push(job.name);
      }
      const wanted = new Set(r.settings.jobs.map((j) => j.name));
      for (const app of this.teamJobs(team)) {
        if (wanted.has(app.metadata.name ?? "")) continue;
        await this.client.delete(BerthTypes.App, app.metadata.namespace, app.metadata.name ?? "", { propagationPolicy: "Background" }).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      }
    }
    const gen = cs.metadata.generation;
    await updateStatus(this.client, BerthTypes.ClusterSettings, cs, {
      ...cs.status,
      observedGeneration: gen,
      conditions: setCondition(
        cs.status?.conditions,
        problems.length
          ? { type: "Ready", status: "False", reason: problems[0]!.reason, message: problems.map((p) => p.message).join("; "), observedGeneration: gen }
          : { type: "Ready", status: "True", reason: "Converged", message: `${converged.length} job(s) converged${converged.length ? `: ${converged.join(", ")}` : ""}`, observedGeneration: gen },
      ),
    });
    if (requeue) return { requeueAfterMs: 1000 };
  }

  /** The Apps converged from this team's settings. */
  private teamJobs(team: string): App[] {
    return this.apps.list().filter((a) => a.metadata.labels?.[ClusterLabels.job] === "true" && a.metadata.labels[ClusterLabels.team] === team && a.spec.owner === team);
  }

  private secretValues(team: string, id: string): Record<string, string> | undefined {
    const secrets = this.informers.informerFor<Secret>(Types.Secret, { namespace: this.namespace, labelSelector: ClusterLabels.secret }).store;
    return teamSecretValues(secrets.get(`${this.namespace}/${secretObjectName(team, id)}`), team, id);
  }

  /** Creates or updates the job's App; a problem when it cannot. */
  private async convergeJob(cs: ClusterSettings, job: JobSettings): Promise<{ reason: JobProblem; message: string } | undefined> {
    const team = cs.spec.team;
    const existing = this.apps.list().find((a) => a.metadata.name === job.name);
    if (existing && existing.spec.owner !== team) return { reason: "NameTaken", message: `job ${job.name}: the name is taken by an app of another team` };
    const privateEnv: Record<string, string> = {};
    for (const id of job.secrets) {
      const values = this.secretValues(team, id);
      if (!values) return { reason: "SecretMissing", message: `job ${job.name}: no secret ${id}` };
      Object.assign(privateEnv, values);
    }
    const labels = { [ClusterLabels.job]: "true", [ClusterLabels.team]: team };
    const annotations = { [ClusterAnnotations.counts]: countsOf(job) };
    const owner = ownerRef(cs, BerthTypes.ClusterSettings);
    let app = existing;
    if (!app) {
      const pool = jobPool(this.informers.informerFor<Pool>(BerthTypes.Pool).store.list());
      if (!pool) return { reason: "NoDefaultPool", message: `job ${job.name}: no default pool (an administrator must create a Pool with default: true)` };
      const namespace = pool.status?.namespace;
      if (!namespace) return { reason: "PoolNotReady", message: `job ${job.name}: pool ${pool.metadata.name} has no namespace yet (${poolNamespace(pool)})` };
      const spec: AppSpec = { image: job.image, processes: jobProcesses(job, undefined), env: envOf(job), owner: team, pool: pool.metadata.name };
      app = await this.client.create<App>(BerthTypes.App, {
        metadata: { name: job.name, namespace, labels, annotations: { ...annotations, [Annotations.actor]: `clustersettings/${team}` }, ownerReferences: [owner] },
        spec,
      });
    }
    let privateEnvSecret = app.spec.privateEnvSecret;
    if (Object.keys(privateEnv).length || privateEnvSecret) {
      if (!privateEnvSecret || !sameEnv(await readPrivateEnv(this.client, app), privateEnv)) privateEnvSecret = await setPrivateEnv(this.client, app, privateEnv);
    }
    await updateWithRetry<App>(this.client, BerthTypes.App, app.metadata.namespace, job.name, (cur) => {
      const spec = { image: job.image, processes: jobProcesses(job, cur.spec.processes), env: envOf(job), ...(privateEnvSecret ? { privateEnvSecret } : {}) };
      const owners = cur.metadata.ownerReferences ?? [];
      const owned = owners.some((o) => o.uid === owner.uid);
      const changed =
        !owned ||
        Object.entries(labels).some(([k, v]) => cur.metadata.labels?.[k] !== v) ||
        cur.metadata.annotations?.[ClusterAnnotations.counts] !== annotations[ClusterAnnotations.counts] ||
        Object.entries(spec).some(([k, v]) => !sameJSON(cur.spec[k as keyof AppSpec], v));
      if (!changed) return undefined;
      return { metadata: { labels, annotations, ...(owned ? {} : { ownerReferences: [...owners, owner] }) }, spec };
    }, app);
    // Default logger levels set before the job existed reach its pods too.
    const loggers = defaultLoggerKeys(cs.spec.loggers);
    if (Object.keys(loggers).length) await writeLoggers(this.client, app, loggers);
    return undefined;
  }
}
