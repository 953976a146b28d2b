// Settings: GET /v1/settings, GET /v1/settings/default, GET /v1/schemas/settings.json,
// POST /v1/settings. Posting validated settings converges the team's jobs: each job becomes an
// App owned by the team (task groups are its process types), jobs left out are removed, the
// way a GitOps apply would.
import type { FastifyInstance } from "fastify";
import type { App, AppSpec, Process } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, conflict, fromKubernetes } from "../errors.ts";
import { ClusterAnnotations, ClusterLabels } from "./store.ts";
import { InvalidSettings, caller, teamOf } from "./http.ts";
import type { JobSettings, Settings, SettingsError } from "./schema.ts";
import { defaultSettings, settingsSchema, validateSettings } from "./schema.ts";

const countsOf = (job: JobSettings) => JSON.stringify(Object.fromEntries(job.taskGroups.map((g) => [g.name, { countInit: g.countInit, countMax: g.countMax }])));

/** The processes of a job's App: counts kept where they are (clamped to countMax), countInit for new task groups. */
export function jobProcesses(job: JobSettings, current: Process[] | undefined): Process[] {
  return job.taskGroups.map((g) => {
    const had = current?.find((p) => p.name === g.name);
    const replicas = Math.min(had?.replicas ?? g.countInit, g.countMax);
    return { name: g.name, replicas, ...(g.command.length ? { command: g.command } : {}), ...(g.port ? { ports: [{ port: g.port }] } : {}) };
  });
}

export function settingsRoutes(s: FastifyInstance, deps: ApiDeps): void {
  s.get("/v1/schemas/settings.json", async (_req, reply) => reply.type("application/schema+json").send(settingsSchema));
  s.get("/v1/settings/default", async (req) => {
    caller(deps, req);
    return defaultSettings();
  });
  s.get("/v1/settings", async (req) => {
    const team = teamOf(caller(deps, req), req);
    return deps.cluster.spec(team).settings ?? defaultSettings();
  });

  s.post("/v1/settings", async (req) => {
    const p = caller(deps, req);
    const team = teamOf(p, req);
    const r = validateSettings(req.body);
    if (!r.settings) throw new InvalidSettings(r.errors);
    const settings = r.settings;
    // What the schema cannot know: names taken by other teams' apps, secrets that do not exist.
    const errors: SettingsError[] = [];
    settings.jobs.forEach((job, i) => {
      const other = deps.apps.app(job.name);
      if (other && other.spec.owner !== team) errors.push({ path: `/jobs/${i}/name`, rule: "available", message: `/jobs/${i}/name ${job.name} is taken by an app of another team` });
      job.secrets.forEach((id, j) => {
        if (!deps.cluster.secret(team, id)) errors.push({ path: `/jobs/${i}/secrets/${j}`, rule: "exists", message: `/jobs/${i}/secrets/${j} no secret ${id}` });
      });
    });
    if (errors.length) throw new InvalidSettings(errors);
    await deps.cluster.updateSpec(team, deps.identity.team(team), (cur) => ({ ...cur, settings: settings as unknown as Record<string, unknown> }));
    await converge(deps, team, settings, p.email ?? `team:${p.name}`);
    return settings;
  });
}

/** Makes the team's Apps match its settings: create, update, and remove the jobs it owns. */
async function converge(deps: ApiDeps, team: string, settings: Settings, actor: string): Promise<void> {
  const { apps } = deps;
  const wanted = new Set(settings.jobs.map((j) => j.name));
  for (const job of settings.jobs) {
    const privateEnv: Record<string, string> = {};
    for (const id of job.secrets) Object.assign(privateEnv, deps.cluster.secret(team, id) ?? {});
    const meta = { labels: { [ClusterLabels.job]: "true", [ClusterLabels.team]: team }, annotations: { [ClusterAnnotations.counts]: countsOf(job) } };
    let app = apps.app(job.name);
    if (!app) {
      const pool = apps.pools().find((x) => x.spec.default) ?? apps.pools().find((x) => x.spec.public);
      if (!pool) throw badRequest("no default pool: an administrator must create one (a Pool with default: true)");
      const spec: AppSpec = { image: job.image, processes: jobProcesses(job, undefined), env: Object.entries(job.env).map(([name, value]) => ({ name, value })), owner: team, pool: pool.metadata.name };
      app = await apps.create(job.name, spec, pool, actor, meta);
    }
    if (app.spec.owner !== team) throw conflict(`job ${job.name}: the name is taken by an app of another team`);
    try {
      await deps.client.mergePatch<App>(BerthTypes.App, app.metadata.namespace, job.name, { metadata: meta });
    } catch (e) {
      throw fromKubernetes(e, `job ${job.name}`);
    }
    // Default logger levels set before the job existed reach its pods too.
    const loggers = deps.cluster.defaultLoggerKeys(team);
    if (Object.keys(loggers).length) await deps.cluster.writeLoggers(app, loggers);
    const secretName = Object.keys(privateEnv).length || app.spec.privateEnvSecret ? await apps.setPrivateEnv(app, privateEnv) : undefined;
    await apps.patch(
      app,
      (cur) => ({
        image: job.image,
        processes: jobProcesses(job, cur.spec.processes),
        env: Object.entries(job.env).map(([name, value]) => ({ name, value })),
        ...(secretName ? { privateEnvSecret: secretName } : {}),
      }),
      actor,
    );
  }
  for (const app of apps.apps()) {
    if (app.metadata.labels?.[ClusterLabels.job] === "true" && app.metadata.labels[ClusterLabels.team] === team && app.spec.owner === team && !wanted.has(app.metadata.name ?? "")) {
      await apps.remove(app);
    }
  }
}
