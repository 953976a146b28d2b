// Events: GET/POST /v1/events (the team's event definitions: a "mapreduce" array, and the
// errors found in it), GET /v1/events/results/{counter} (the log of Kubernetes Events about
// the caller's jobs and their pods, from position counter; the log restarts when nobody asked
// for 5 s).
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { badRequest, notFound } from "../errors.ts";
import { canSeeApp } from "../identity/principal.ts";
import type { P } from "./http.ts";
import { caller, isObject, objectBody, teamOf } from "./http.ts";
import type { KubeEvent } from "./store.ts";

/** A results log restarts after this long without a request. */
export const RESULTS_IDLE_MS = 5_000;

const when = (e: KubeEvent) => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? "";

/**
 * Whether an event of the apps' namespace is about one of these apps or one of its children
 * (named "<app>-..."): the involved object's name, or one of its prefixes ending before a "-",
 * is an app's name.
 */
export function aboutOneOf(e: KubeEvent, appNames: ReadonlySet<string>): boolean {
  const name = e.involvedObject?.name ?? "";
  for (let dash = name.indexOf("-"); dash >= 0; dash = name.indexOf("-", dash + 1)) if (appNames.has(name.slice(0, dash))) return true;
  return appNames.has(name);
}

export const eventMessage = (e: KubeEvent) => `${when(e)} ${e.type ?? "Normal"} ${e.involvedObject?.kind ?? ""}/${e.involvedObject?.name ?? ""} ${e.reason ?? ""}: ${e.message ?? ""}`;

export function eventRoutes(s: FastifyInstance, deps: ApiDeps): void {
  /** Per caller (token): when its current results log started and when it last asked. */
  const sessions = new Map<string, { since: string; seen: number }>();

  s.get("/v1/events", async (req) => {
    const events = deps.cluster.spec(teamOf(caller(deps, req), req)).events;
    return { errors: "", mapreduce: events?.mapreduce ?? [] };
  });
  s.post("/v1/events", async (req) => {
    const p = caller(deps, req);
    const team = teamOf(p, req);
    const b = objectBody(req);
    const mapreduce = b.mapreduce ?? [];
    if (!Array.isArray(mapreduce) || !mapreduce.every(isObject)) throw badRequest("mapreduce must be an array of objects (the events file contents)");
    const unknown = Object.keys(b).filter((k) => k !== "mapreduce");
    if (unknown.length) throw badRequest(`unknown fields: ${unknown.join(", ")}`);
    const { spec } = await deps.cluster.updateSpec(team, deps.identity.team(team), (cur) => ({ ...cur, events: { mapreduce } }));
    return { errors: "", mapreduce: spec.events?.mapreduce ?? [] };
  });

  s.get<P<"counter">>("/v1/events/results/:counter", async (req) => {
    const p = caller(deps, req);
    // The documented route is results/{counter:[0-9]+}: anything else is no such path.
    if (!/^[0-9]+$/.test(req.params.counter)) throw notFound(`no such endpoint: GET /v1/events/results/${req.params.counter}`);
    const counter = Number(req.params.counter);
    const now = Date.now();
    for (const [k, v] of sessions) if (now - v.seen > RESULTS_IDLE_MS) sessions.delete(k);
    const session = sessions.get(p.tokenHash) ?? { since: new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z"), seen: now };
    session.seen = now;
    sessions.set(p.tokenHash, session);
    // The caller's apps by namespace; events looked up by their object's namespace (indexed).
    const mine = new Map<string, Set<string>>();
    for (const a of deps.apps.apps()) {
      if (!canSeeApp(p, a)) continue;
      const ns = a.metadata.namespace ?? "";
      mine.set(ns, (mine.get(ns) ?? new Set()).add(a.metadata.name ?? ""));
    }
    const events = (await deps.cluster.events()).store;
    const messages = [...mine]
      .flatMap(([ns, names]) => events.byIndex("namespace", ns).filter((e) => when(e) >= session.since && aboutOneOf(e, names)))
      .sort((a, b) => when(a).localeCompare(when(b)) || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""))
      .map(eventMessage);
    return { counter: messages.length, messages: messages.slice(Math.min(counter, messages.length)) };
  });
}
