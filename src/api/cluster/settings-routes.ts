// Settings: GET /v1/settings, GET /v1/settings/default, GET /v1/schemas/settings.json,
// POST /v1/settings. Posting validated settings writes the team's ClusterSettings; the
// ClusterSettings controller (src/reconcilers/cluster-settings.ts) converges its jobs, as it
// does for settings applied with kubectl, and the answer waits for it.
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { conflict } from "../errors.ts";
import { ClusterLabels } from "./store.ts";
import { InvalidSettings, caller, teamOf } from "./http.ts";
import type { SettingsError } from "../../model/cluster-settings.ts";
import { defaultSettings, settingsSchema, validateSettings } from "../../model/cluster-settings.ts";

/** How long a write waits for the ClusterSettings controller before answering 202 (stored, converging). */
export const CONVERGE_WAIT_MS = 30_000;

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

  s.post("/v1/settings", async (req, reply) => {
    const p = caller(deps, req);
    const team = teamOf(p, req);
    const r = validateSettings(req.body);
    if (!r.settings) throw new InvalidSettings(r.errors);
    const settings = r.settings;
    // What the schema cannot know: names taken by other teams' apps, secrets that do not exist
    // (the controller would report them in the status; here they are a 400 before anything is stored).
    const errors: SettingsError[] = [];
    settings.jobs.forEach((job, i) => {
      const other = deps.apps.app(job.name);
      if (other && other.spec.owner !== team) errors.push({ path: `/jobs/${i}/name`, rule: "available", message: `/jobs/${i}/name ${job.name} is taken by an app of another team` });
      job.secrets.forEach((id, j) => {
        if (!deps.cluster.secret(team, id)) errors.push({ path: `/jobs/${i}/secrets/${j}`, rule: "exists", message: `/jobs/${i}/secrets/${j} no secret ${id}` });
      });
    });
    if (errors.length) throw new InvalidSettings(errors);
    const written = await deps.cluster.updateSpec(team, deps.identity.team(team), (cur) => ({ ...cur, settings: settings as unknown as Record<string, unknown> }));
    // The ClusterSettings controller converges the jobs; the answer waits for it (and for this
    // server's cache to show the jobs), as when the request itself converged them.
    const ready = await deps.cluster.reconciled(team, written.metadata.generation, CONVERGE_WAIT_MS);
    if (!ready) return reply.code(202).send(settings);
    if (ready.status !== "True") throw conflict(`the settings are stored, but the jobs cannot converge: ${ready.message} (${ready.reason})`);
    const wanted = new Set(settings.jobs.map((j) => j.name));
    const cached = () =>
      settings.jobs.every((j) => deps.apps.app(j.name)?.metadata.labels?.[ClusterLabels.job] === "true") &&
      !deps.apps.apps().some((a) => a.metadata.labels?.[ClusterLabels.job] === "true" && a.metadata.labels[ClusterLabels.team] === team && !wanted.has(a.metadata.name ?? ""));
    for (const end = Date.now() + CONVERGE_WAIT_MS; !cached() && Date.now() < end; ) await new Promise((res) => setTimeout(res, 50));
    return settings;
  });
}
