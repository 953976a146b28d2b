// Deis config: environment values, limits and tags; a change that alters the release content
// is a new release, named in Deis-Release / X-Deis-Release (deis/deis:controller/api/views.py
// ConfigViewSet, ReleasableViewSet.get_success_headers).
import type { FastifyInstance } from "fastify";
import type { App } from "../../model/kinds.ts";
import { badRequest } from "../errors.ts";
import type { DeisHttp, P } from "./http.ts";
import { body } from "./http.ts";
import { applyLimits, toDeisMemory, toShares } from "./limits.ts";
import { deisTime, ownerOf } from "./views.ts";

/** Deis' CONFIGKEY_MATCH (controller/api/serializers.py). */
const CONFIG_KEY = /^[a-z_]+[a-z0-9_]*$/i;
/** Set at run time on every container (and never stored with the config). */
export const RUNTIME_KEYS = new Set(["DEIS_APP", "DEIS_RELEASE"]);

export function configView(app: App) {
  return {
    owner: ownerOf(app),
    app: app.metadata.name,
    values: Object.fromEntries((app.spec.env ?? []).map((e) => [e.name, e.value ?? ""])),
    memory: Object.fromEntries(app.spec.processes.filter((x) => x.resources?.memory).map((x) => [x.name, toDeisMemory(x.resources!.memory!)])),
    cpu: Object.fromEntries(app.spec.processes.filter((x) => x.resources?.cpu).map((x) => [x.name, toShares(x.resources!.cpu!)])),
    tags: app.spec.nodeSelector ?? {},
    created: deisTime(app.metadata.creationTimestamp),
    updated: deisTime(app.metadata.creationTimestamp),
    uuid: app.metadata.uid,
  };
}

/** After a spec change, the release the app runs once the controller observed it (AppStore.observed). */
export const releaseAfter = (h: DeisHttp, updated: App, timeoutMs = 30_000): Promise<{ app: App; version: number }> => h.deps.apps.observed(updated, timeoutMs);

export function configRoutes(s: FastifyInstance, h: DeisHttp): void {
  const { apps } = h.deps;
  s.get<P<"app">>("/apps/:app/config", async (req) => configView(h.load(h.who(req), req.params.app)));

  s.post<P<"app">>("/apps/:app/config", async (req, reply) => {
    const p = h.who(req);
    const app = h.load(p, req.params.app);
    const b = body(req);
    const values = b.values ?? {};
    if (typeof values !== "object" || values === null || Array.isArray(values)) throw badRequest("values", { values: ["Must be an object of names to strings (null unsets)."] });
    const wanted = new Map<string, string | null>();
    for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
      if (!CONFIG_KEY.test(k)) throw badRequest("values", { values: ["Config keys must start with a letter or underscore and only contain [A-z0-9_]"] });
      if (RUNTIME_KEYS.has(k)) throw badRequest("values", { values: [`${k} is set by the platform when the app runs and cannot be configured`] });
      if (v !== null && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") throw badRequest("values", { values: [`${k}: values must be strings`] });
      wanted.set(k, v === null ? null : String(v));
    }
    applyLimits(app, b); // refuses bad limits and tags before anything is written
    // Computed from the App as it is when written (retried on a concurrent change), so that
    // concurrent config:set calls all land; undefined when nothing changes (no write, no release).
    const change = (cur: App) => {
      const { processes, nodeSelector, changed } = applyLimits(cur, b);
      const env = new Map((cur.spec.env ?? []).map((e) => [e.name, e.value ?? ""]));
      let envChanged = false;
      for (const [k, v] of wanted) {
        if (v === null) envChanged = env.delete(k) || envChanged;
        else {
          envChanged = envChanged || env.get(k) !== v;
          env.set(k, v);
        }
      }
      if (!envChanged && !changed) return undefined;
      return { processes, ...(nodeSelector ? { nodeSelector } : {}), ...(envChanged ? { env: [...env].map(([name, value]) => ({ name, value })) } : {}) };
    };
    const current = await apps.patch(app, change, h.username(p));
    const { app: fresh, version } = await releaseAfter(h, current);
    return reply.code(201).header("Deis-Release", String(version)).header("X-Deis-Release", String(version)).send(configView(fresh));
  });
}
