// Logs and loggers: GET/POST /v1/log/logs (log definitions), GET /v1/log/meta/{name} (the
// allocations, i.e. pods, of a log's job and task group), GET /v1/log/fs/{alloc}/{task}/{fs}
// (the container's log through the API server, with origin and offset), GET /v1/log/defaults,
// POST /v1/log/defaults/{loggerID}, GET /v1/log/allocs/{allocID},
// POST /v1/log/allocs/{allocID}/{loggerID}. Default levels live in the team's
// ClusterSettings; per-allocation levels in a ConfigMap per job (`<job>-loggers`, owned by the
// App, keys `<alloc>_<loggerID>_<leaf>`, and `default_<loggerID>_<leaf>` copied from the
// defaults), mounted into the job's pods at /etc/berth/loggers (a ConfigMap volume updates in
// place: the running process sees a level change without a restart).
import type { FastifyInstance } from "fastify";
import type { KubeObject } from "../../kube/resource.ts";
import { Types } from "../../kube/resource.ts";
import type { App, LogDefinition, LogLevel } from "../../model/kinds.ts";
import { Labels } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, fromKubernetes, notFound } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { canSeeApp } from "../identity/principal.ts";
import type { P } from "./http.ts";
import { loggersConfigMap } from "./store.ts";
import { KEY, caller, isObject, objectBody, teamOf } from "./http.ts";
import { LOG_LEVELS } from "../../model/cluster-settings.ts";
import type { Pod } from "./store.ts";
import { podState } from "./job-routes.ts";
import { CONVERGE_WAIT_MS } from "./settings-routes.ts";

type ConfigMap = KubeObject & { data?: Record<string, string> };
/** Logs are read whole up to this many bytes (the newest), then cut at the offset. */
const MAX_LOG_BYTES = 8 << 20;

/** {leaf: level} from a body; unknown levels and bad names are a 400. */
function levels(body: Record<string, unknown>): Record<string, LogLevel> {
  const out: Record<string, LogLevel> = {};
  if (!Object.keys(body).length) throw badRequest('expected {"<logger leaf>": "<level>"}, e.g. {"leaf": "debug"}');
  for (const [leaf, level] of Object.entries(body)) {
    if (!KEY.test(leaf) || leaf.includes("_")) throw badRequest(`invalid logger name ${JSON.stringify(leaf)}: letters, digits, "-" and "."`);
    if (typeof level !== "string" || !(LOG_LEVELS as readonly string[]).includes(level)) throw badRequest(`invalid log level ${JSON.stringify(level)} for ${leaf}: one of ${LOG_LEVELS.join(", ")}`);
    out[leaf] = level as LogLevel;
  }
  return out;
}

function logDefinitions(body: unknown): LogDefinition[] {
  if (!Array.isArray(body)) throw badRequest("the request body must be a JSON array of log definitions");
  const ids = new Set<string>();
  return body.map((d: unknown, i) => {
    if (!isObject(d)) throw badRequest(`[${i}]: a log definition is an object`);
    const str = (k: string, required = false): string | undefined => {
      const v = d[k];
      if (v === undefined && !required) return undefined;
      if (typeof v !== "string" || (required && !v)) throw badRequest(`[${i}].${k}: must be a string${required ? " (required)" : ""}`);
      return v;
    };
    const id = str("id", true)!;
    if (ids.has(id)) throw badRequest(`[${i}].id: ${id} is defined twice`);
    ids.add(id);
    if (d.logLevel !== undefined && typeof d.logLevel !== "boolean") throw badRequest(`[${i}].logLevel: must be a boolean`);
    const out: LogDefinition = { id };
    for (const k of ["group", "job", "task", "fileName"] as const) {
      const v = str(k);
      if (v !== undefined) out[k] = v;
    }
    if (typeof d.logLevel === "boolean") out.logLevel = d.logLevel;
    return out;
  });
}

export function logRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { apps, client } = deps;
  /** The pod named alloc among the apps the caller can see, with its app. */
  const alloc = (p: Principal, name: string): { pod: Pod; app: App } => {
    for (const app of apps.apps()) {
      if (!canSeeApp(p, app)) continue;
      const pod = apps.pods(app).find((x) => x.metadata.name === name) as Pod | undefined;
      if (pod) return { pod, app };
    }
    throw notFound(`allocation ${name} not found`);
  };

  s.get("/v1/log/logs", async (req) => deps.cluster.spec(teamOf(caller(deps, req), req)).logs ?? []);
  s.post("/v1/log/logs", async (req) => {
    const p = caller(deps, req);
    const team = teamOf(p, req);
    const logs = logDefinitions(req.body);
    return (await deps.cluster.updateSpec(team, deps.identity.team(team), (cur) => ({ ...cur, logs }))).spec.logs ?? [];
  });

  s.get<P<"name">>("/v1/log/meta/:name", async (req) => {
    const p = caller(deps, req);
    const def = (deps.cluster.spec(teamOf(p, req)).logs ?? []).find((d) => d.id === req.params.name);
    if (!def) throw notFound(`log ${req.params.name} not found`);
    const app = def.job ? apps.app(def.job) : undefined;
    if (!app || !canSeeApp(p, app)) return [];
    const group = def.group || def.task;
    return apps
      .pods(app)
      .filter((pod) => !group || pod.metadata.labels?.[Labels.process] === group)
      .map((pod) => ({
        allocID: pod.metadata.name ?? "",
        status: podState(pod as Pod),
        jobName: app.metadata.name ?? "",
        taskName: def.task ?? pod.metadata.labels?.[Labels.process] ?? "",
        fileName: def.fileName ?? "",
        createTime: pod.metadata.creationTimestamp ?? "",
        logLevel: String(def.logLevel ?? false),
      }));
  });

  s.get<P<"alloc" | "task" | "fs"> & { Querystring: { origin?: string; offset?: string } }>("/v1/log/fs/:alloc/:task/:fs", async (req, reply) => {
    const p = caller(deps, req);
    const { alloc: name, task, fs } = req.params;
    if (fs !== "stdout" && fs !== "stderr") throw badRequest(`fs must be stdout or stderr, not ${fs}`);
    const origin = req.query.origin ?? "start";
    if (origin !== "start" && origin !== "end") throw badRequest(`origin must be start or end, not ${origin}`);
    const offset = req.query.offset === undefined || req.query.offset === "" ? 0 : Number(req.query.offset);
    if (!Number.isInteger(offset) || offset < 0) throw badRequest(`offset must be a whole number of bytes, not ${req.query.offset}`);
    const { pod } = alloc(p, name);
    if (!pod.spec?.containers?.some((c) => c.name === task)) throw notFound(`task ${task} not found in allocation ${name}`);
    // Kubernetes keeps one stream per container: stdout and stderr are read from it alike.
    let text = "";
    // A simulated node (KWOK) has no kubelet: its pods have written nothing, and the API server
    // is not sent to dial an address where no kubelet listens.
    // Reading the Node needs a permission the chart does not grant (least privilege): where it
    // is refused, the log is read as on any node.
    const node = pod.spec?.nodeName ? await client.getOrUndefined(Types.Node, undefined, pod.spec.nodeName).catch(() => undefined) : undefined;
    const simulated = !pod.spec?.nodeName || node?.metadata.annotations?.["kwok.x-k8s.io/node"] === "fake";
    if (!simulated) {
      try {
        text = await client.requestText(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${name}/log`, { container: task, limitBytes: MAX_LOG_BYTES });
      } catch (e) {
        const status = (e as { status?: number }).status;
        // Not started yet, or its kubelet unreachable: nothing to read so far.
        if (status !== 400 && status !== 404 && status !== 500 && status !== 502) throw fromKubernetes(e, `the log of ${name}`);
      }
    }
    const bytes = Buffer.from(text, "utf8");
    const from = origin === "start" ? Math.min(offset, bytes.length) : Math.max(0, bytes.length - offset);
    return reply
      .type("text/plain; charset=utf-8")
      .header("X-Log-Size", String(bytes.length))
      .send(bytes.subarray(from));
  });

  s.get("/v1/log/defaults", async (req) => deps.cluster.spec(teamOf(caller(deps, req), req)).loggers ?? {});
  s.post<P<"loggerID">>("/v1/log/defaults/:loggerID", async (req) => {
    const p = caller(deps, req);
    const team = teamOf(p, req);
    const id = req.params.loggerID;
    if (!KEY.test(id) || id.includes("_")) throw badRequest(`invalid logger ID ${JSON.stringify(id)}`);
    const set = levels(objectBody(req));
    const written = await deps.cluster.updateSpec(team, deps.identity.team(team), (cur) => ({ ...cur, loggers: { ...cur.loggers, [id]: { ...cur.loggers?.[id], ...set } } }));
    // The ClusterSettings controller delivers them into the loggers ConfigMap of each of the
    // team's jobs (their pods see the mounted file change in place): answered once it has.
    await deps.cluster.reconciled(team, written.metadata.generation, CONVERGE_WAIT_MS);
    return written.spec.loggers?.[id] ?? {};
  });

  const allocLevels = async (app: App, pod: string): Promise<Record<string, Record<string, string>>> => {
    const cm = await client.getOrUndefined<ConfigMap>(Types.ConfigMap, app.metadata.namespace, loggersConfigMap(app.metadata.name ?? ""));
    const out: Record<string, Record<string, string>> = {};
    for (const [k, v] of Object.entries(cm?.data ?? {})) {
      const [podName, logger, leaf] = k.split("_");
      if (podName === pod && logger && leaf) (out[logger] ??= {})[leaf] = v;
    }
    return out;
  };

  s.get<P<"allocID">>("/v1/log/allocs/:allocID", async (req) => {
    const p = caller(deps, req);
    const { app, pod } = alloc(p, req.params.allocID);
    const defaults = deps.cluster.spec(app.spec.owner ?? "").loggers ?? {};
    const own = await allocLevels(app, pod.metadata.name ?? "");
    // Every logger known by default or for this allocation; "" = the allocation uses the default.
    const out: Record<string, Record<string, string>> = {};
    for (const [logger, leaves] of Object.entries(defaults)) for (const leaf of Object.keys(leaves)) (out[logger] ??= {})[leaf] = "";
    for (const [logger, leaves] of Object.entries(own)) for (const [leaf, level] of Object.entries(leaves)) (out[logger] ??= {})[leaf] = level;
    return out;
  });

  s.post<P<"allocID" | "loggerID">>("/v1/log/allocs/:allocID/:loggerID", async (req) => {
    const p = caller(deps, req);
    const { app, pod } = alloc(p, req.params.allocID);
    const id = req.params.loggerID;
    if (!KEY.test(id) || id.includes("_")) throw badRequest(`invalid logger ID ${JSON.stringify(id)}`);
    const set = levels(objectBody(req));
    await deps.cluster.writeLoggers(app, Object.fromEntries(Object.entries(set).map(([leaf, level]) => [`${pod.metadata.name}_${id}_${leaf}`, level])));
    return (await allocLevels(app, pod.metadata.name ?? ""))[id] ?? {};
  });
}
