// Events: GET/POST /v1/events (the team's event definitions: a "mapreduce" array, and the
// errors found in it), GET /v1/events/results/{counter} (the log of Kubernetes Events about
// the caller's jobs and their pods, from position counter; the log restarts when nobody asked
// for 5 s).
import type { FastifyInstance } from "fastify";
import type { App } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, notFound } from "../errors.ts";
import { canSeeApp } from "../identity/principal.ts";
import type { P } from "./http.ts";
import { caller, isObject, objectBody, teamOf } from "./http.ts";
import type { KubeEvent } from "./store.ts";

/** A results log restarts after this long without a request. */
export const RESULTS_IDLE_MS = 5_000;

const when = (e: KubeEvent) => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? "";

/** Whether the event is about the app or one of its children (named "<app>-...") in its namespace. */
export function concerns(e: KubeEvent, app: App): boolean {
  const o = e.involvedObject;
  const name = app.metadata.name ?? "";
  return !!o && o.namespace === app.metadata.namespace && (o.name === name || !!o.name?.startsWith(`${name}-`));
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
    const mine = deps.apps.apps().filter((a) => canSeeApp(p, a));
    const messages = deps.cluster
      .eventInformer()
      .store.list()
      .filter((e) => when(e) >= session.since && mine.some((a) => concerns(e, a)))
      .sort((a, b) => when(a).localeCompare(when(b)) || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""))
      .map(eventMessage);
    return { counter: messages.length, messages: messages.slice(Math.min(counter, messages.length)) };
  });
}
