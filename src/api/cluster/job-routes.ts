// Jobs: GET /v1/jobs (long polling on waitIndex), POST /v1/jobs/start/{job_id},
// POST /v1/jobs/stop/{job_id}, POST /v1/jobs/updatecounts. A job is an App the caller can see;
// a task group is one of its process types, its count the process's replica count, and its
// summary counts the App's pods by state.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { App } from "../../model/kinds.ts";
import { Labels } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { ApiError, badRequest, notFound } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { canSeeApp, requireApp } from "../identity/principal.ts";
import type { P } from "./http.ts";
import { caller, objectBody } from "./http.ts";
import type { Pod } from "./store.ts";
import { ClusterAnnotations } from "./store.ts";

/** countInit and countMax of a process no settings describe (an App made through another dialect). */
export const DEFAULT_COUNT_INIT = 1;
export const DEFAULT_COUNT_MAX = 100;
/** How long a long poll waits for a change before answering with the same index. */
export const WAIT_MS = 30_000;

export interface Summary {
  queued: number;
  complete: number;
  failed: number;
  running: number;
  starting: number;
  lost: number;
}

/** The state of one allocation (pod), in the cluster API's words. */
export function podState(pod: Pod): keyof Summary {
  const phase = pod.status?.phase;
  if (pod.metadata.deletionTimestamp) return "complete";
  if (phase === "Succeeded") return "complete";
  if (phase === "Failed") return pod.status?.reason === "Evicted" || pod.status?.reason === "NodeLost" ? "lost" : "failed";
  if (phase === "Unknown") return "lost";
  if (phase === "Running") return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? "running" : "starting";
  return pod.spec?.nodeName ? "starting" : "queued";
}

export function summarize(pods: Pod[]): Summary {
  const s: Summary = { queued: 0, complete: 0, failed: 0, running: 0, starting: 0, lost: 0 };
  for (const p of pods) s[podState(p)]++;
  return s;
}

export function countsOf(app: App): Record<string, { countInit: number; countMax: number }> {
  try {
    return JSON.parse(app.metadata.annotations?.[ClusterAnnotations.counts] ?? "{}") as Record<string, { countInit: number; countMax: number }>;
  } catch {
    return {};
  }
}

export function jobView(app: App, pods: Pod[]) {
  const counts = countsOf(app);
  const stopped = (app.spec.state ?? "Running") !== "Running";
  const taskGroups = app.spec.processes.map((proc) => {
    const mine = pods.filter((p) => p.metadata.labels?.[Labels.process] === proc.name);
    return {
      name: proc.name,
      count: proc.replicas ?? 0,
      countInit: counts[proc.name]?.countInit ?? DEFAULT_COUNT_INIT,
      countMax: counts[proc.name]?.countMax ?? DEFAULT_COUNT_MAX,
      summary: summarize(mine),
    };
  });
  const running = taskGroups.some((g) => g.summary.running > 0);
  return { name: app.metadata.name ?? "", status: stopped ? "dead" : running ? "running" : "pending", taskGroups };
}

export function jobRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { apps } = deps;
  const actor = (p: Principal) => p.email ?? `team:${p.name}`;
  const jobs = (p: Principal) =>
    apps
      .apps()
      .filter((a) => canSeeApp(p, a))
      .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""))
      .map((a) => jobView(a, apps.pods(a)));
  const load = (p: Principal, id: string) => {
    try {
      return requireApp(p, apps.app(id), id);
    } catch {
      throw notFound(`job ${id} not found`);
    }
  };

  /**
   * The caller's jobs as JSON at the feed's current index: computed once per caller and index,
   * however many of the caller's long polls wake at one change.
   */
  const views = new Map<string, { index: string; json: string }>();
  const viewAt = (p: Principal): { index: string; json: string } => {
    const index = deps.cluster.feed.index();
    const cached = views.get(p.tokenHash);
    if (cached?.index === index) return cached;
    if (views.size > 10_000) views.clear();
    const fresh = { index, json: JSON.stringify(jobs(p)) };
    views.set(p.tokenHash, fresh);
    return fresh;
  };

  s.get("/v1/jobs", async (req: FastifyRequest, reply) => {
    const p = caller(deps, req);
    const feed = deps.cluster.feed;
    let view = viewAt(p);
    const sent = req.headers.waitindex;
    if (sent !== undefined && (typeof sent !== "string" || !/^\d+$/.test(sent))) throw badRequest("waitIndex must be the waitIndex header of an earlier answer");
    // A client that holds the current index waits until its view changes (or WAIT_MS passes).
    if (typeof sent === "string" && BigInt(sent) >= BigInt(view.index)) {
      const gone = new AbortController();
      const onClose = () => gone.abort();
      reply.raw.on("close", onClose);
      const before = view.json;
      const deadline = Date.now() + WAIT_MS;
      try {
        while (!gone.signal.aborted && Date.now() < deadline) {
          await feed.next(gone.signal, deadline - Date.now());
          view = viewAt(p);
          if (view.json !== before) break;
        }
      } finally {
        reply.raw.off("close", onClose);
      }
      if (gone.signal.aborted) return reply;
    }
    return reply.header("waitIndex", view.index).type("application/json; charset=utf-8").send(view.json);
  });

  const setState = (path: string, state: "Running" | "Stopped") =>
    s.post<P<"job_id">>(`/v1/jobs/${path}/:job_id`, async (req) => {
      const p = caller(deps, req);
      const app = load(p, req.params.job_id);
      const updated = await apps.patch(app, { state }, actor(p));
      return jobView(updated, apps.pods(updated));
    });
  setState("start", "Running");
  setState("stop", "Stopped");

  s.post("/v1/jobs/updatecounts", async (req) => {
    const p = caller(deps, req);
    const b = objectBody(req);
    const { jobID, taskGroup, count } = b;
    if (typeof jobID !== "string" || !jobID) throw badRequest("jobID (string) is required");
    if (typeof taskGroup !== "string" || !taskGroup) throw badRequest("taskGroup (string) is required");
    if (typeof count !== "number" || !Number.isInteger(count)) throw badRequest("count (int) is required: the count delta, 0 to stop the task group");
    const app = load(p, jobID);
    if (!app.spec.processes.some((x) => x.name === taskGroup)) throw notFound(`task group ${taskGroup} not found in job ${jobID}`);
    const max = countsOf(app)[taskGroup]?.countMax ?? DEFAULT_COUNT_MAX;
    const updated = await apps.patch(
      app,
      (cur) => {
        const proc = cur.spec.processes.find((x) => x.name === taskGroup);
        if (!proc) throw notFound(`task group ${taskGroup} not found in job ${jobID}`);
        const now = proc.replicas ?? 0;
        const next = count === 0 ? 0 : now + count;
        if (next < 0 || next > max) throw new ApiError(400, `count of ${jobID}/${taskGroup} would be ${next}: it must stay between 0 and countMax (${max}); it is ${now}`);
        return next === now ? undefined : { processes: cur.spec.processes.map((x) => (x.name === taskGroup ? { ...x, replicas: next } : x)) };
      },
      actor(p),
    );
    return jobView(updated, apps.pods(updated));
  });
}
