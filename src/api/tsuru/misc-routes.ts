// tsuru's read-mostly corners: app logs, events, quotas, roles and permissions.
import type { FastifyInstance } from "fastify";
import type { KubeObject } from "../../kube/resource.ts";
import type { App, Role } from "../../model/kinds.ts";
import { BerthTypes, Labels } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, conflict, fromKubernetes, notFound } from "../errors.ts";
import { canSeeApp, requireAdmin, requireApp, requireTeamMember } from "../identity/principal.ts";
import { NAME } from "../identity/store.ts";
import { bool, caller, form, int, list, required, str } from "./http.ts";
import { eventView } from "./views.ts";

type P<T extends string> = { Params: Record<T, string> };

/** The permission names Berth checks, in tsuru's vocabulary. */
export const PERMISSIONS = ["app", "app.read", "app.create", "app.update", "app.update.env", "app.update.env.set", "app.update.env.unset", "app.deploy", "app.deploy.rollback", "app.update.unit", "app.delete", "team", "team.create", "team.update", "team.delete", "pool", "pool.create", "service-instance", "service-instance.create", "service-instance.update.bind", "team.token"];

interface LogEntry {
  Date: string;
  Message: string;
  Source: string;
  Name: string;
  Type: string;
  Unit: string;
}

/** How often a followed log looks for new units. */
const LOG_POLL_MS = 2_000;
/** How long before a followed unit whose log stream ended is tried again. */
const LOG_RETRY_MS = 10_000;

/** A kubelet log line ("<RFC3339 time> <message>") as tsuru's log entry (tsuru/tsuru:types/app/log.go Applog). */
function logEntry(app: App, pod: KubeObject, line: string): LogEntry {
  const i = line.indexOf(" ");
  return { Date: i > 0 ? line.slice(0, i) : new Date().toISOString(), Message: i > 0 ? line.slice(i + 1) : line, Source: pod.metadata.labels?.[Labels.process] ?? "", Name: app.metadata.name ?? "", Type: "app", Unit: pod.metadata.name ?? "" };
}

export function miscRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { apps, client, informers } = deps;

  s.get("/", async (_req, reply) => reply.type("text/plain; charset=utf-8").send("Berth: a tsuru-compatible API on Kubernetes\n"));

  // Logs come from the pods (the kubelet). tsuru's framing (tsuru/tsuru:api/app.go appLog, read by
  // tsuru/tsuru-client:tsuru/client/log.go as consecutive JSON arrays): a first array of the last
  // `lines` entries, then, with follow, one array per new entry until the client goes away.
  s.get<P<"app">>("/apps/:app/log", async (req, reply) => {
    const p = caller(deps, req);
    const app = requireApp(p, apps.app(req.params.app), req.params.app);
    const f = form(req);
    const lines = int(f, "lines", 10);
    if (lines < 0 || lines > 10_000) throw badRequest("lines must be between 0 and 10000");
    const unit = str(f, "unit");
    const source = str(f, "source");
    const pods = () => apps.pods(app).filter((x) => (!unit || x.metadata.name === unit) && (!source || x.metadata.labels?.[Labels.process] === source));
    const logPath = (pod: KubeObject) => `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/log`;
    const entries: LogEntry[] = [];
    for (const pod of pods()) {
      const text = lines === 0 ? "" : await client.requestText(logPath(pod), { tailLines: lines, timestamps: true }).catch(() => "");
      for (const line of text.split("\n").filter(Boolean)) entries.push(logEntry(app, pod, line));
    }
    reply.hijack();
    reply.raw.writeHead(200, { "Content-Type": "application/x-json-stream", "Cache-Control": "no-cache" });
    reply.raw.write(`${JSON.stringify(entries.sort((a, b) => a.Date.localeCompare(b.Date)).slice(-lines))}\n`);
    if (!bool(f, "follow")) {
      reply.raw.end();
      return;
    }
    const done = new AbortController();
    reply.raw.on("close", () => done.abort());
    const followed = new Set<string>();
    while (!done.signal.aborted) {
      // New units (a scale-up, a restart) are picked up as they appear.
      for (const pod of pods().filter((x) => !followed.has(x.metadata.name ?? ""))) {
        const name = pod.metadata.name ?? "";
        followed.add(name);
        client
          .streamLines(logPath(pod), { follow: true, tailLines: 0, timestamps: true }, done.signal, (line) => {
            if (line && !done.signal.aborted) reply.raw.write(`${JSON.stringify([logEntry(app, pod, line)])}\n`);
          })
          .catch(() => undefined)
          // A unit whose log cannot be read (not running yet, or a node without a kubelet) is tried again later.
          .finally(() => setTimeout(() => followed.delete(name), LOG_RETRY_MS).unref());
      }
      await new Promise((resolve) => setTimeout(resolve, LOG_POLL_MS).unref());
    }
    reply.raw.end();
  });

  // Events: the deploys (releases) Berth recorded, newest first.
  s.get("/events", async (req, reply) => {
    const p = caller(deps, req);
    // The CLI's filters (tsuru/tsuru-client:tsuru/client/event.go eventFilter): lower-cased
    // target.type, target.value, ownername, kindname (repeatable), running.
    const f = form(req);
    const target = str(f, "target.value");
    const targetType = str(f, "target.type");
    const owner = str(f, "ownername");
    const kinds = new Set(list(f, "kindname"));
    const out = (targetType && targetType !== "app") || bool(f, "running")
      ? []
      : apps
          .apps()
          .filter((a) => canSeeApp(p, a) && (!target || a.metadata.name === target))
          .flatMap((a) => apps.releases(a).map((r) => eventView(a, r)))
          .filter((e) => (!kinds.size || kinds.has(e.Kind.Name)) && (!owner || e.Owner.Name === owner))
          .sort((a, b) => String(b.StartTime).localeCompare(String(a.StartTime)));
    return out.length ? out : reply.code(204).send();
  });
  s.get("/events/kinds", async (req) => {
    caller(deps, req);
    return [
      { Type: "permission", Name: "app.deploy" },
      { Type: "permission", Name: "app.deploy.rollback" },
    ];
  });

  // Quotas: apps per team (Team.spec.quota.apps), units per app (unlimited in Berth: plans and pool quotas bound resources).
  s.get<P<"app">>("/apps/:app/quota", async (req) => {
    const app = requireApp(caller(deps, req), apps.app(req.params.app), req.params.app);
    return { limit: -1, inuse: apps.pods(app).length };
  });
  s.get<P<"name">>("/teams/:name/quota", async (req) => {
    const p = caller(deps, req);
    requireTeamMember(p, req.params.name);
    const team = deps.identity.team(req.params.name);
    if (!team) throw notFound("Team not found");
    return { limit: team.spec.quota?.apps ?? -1, inuse: apps.apps().filter((a) => a.spec.owner === req.params.name).length };
  });
  s.put<P<"name">>("/teams/:name/quota", async (req, reply) => {
    requireAdmin(caller(deps, req));
    if (!deps.identity.team(req.params.name)) throw notFound("Team not found");
    const limit = int(form(req), "limit");
    if (limit < -1) throw badRequest("Invalid limit: must be -1 (unlimited) or more");
    await client.mergePatch(BerthTypes.Team, undefined, req.params.name, { spec: { quota: { apps: limit } } }).catch((e: unknown) => {
      throw fromKubernetes(e, "team");
    });
    return reply.code(200).send();
  });
  s.get<P<"email">>("/users/:email/quota", async (req) => {
    const p = caller(deps, req);
    if (!p.admin && p.email !== req.params.email) throw notFound("User not found");
    return { limit: -1, inuse: apps.apps().filter((a) => a.metadata.annotations?.["berth.dev/actor"] === req.params.email).length };
  });

  const roles = () => informers.informerFor<Role>(BerthTypes.Role).store;
  s.get("/roles", async (req) => {
    caller(deps, req);
    return roles()
      .list()
      .map((r) => ({ name: r.metadata.name, context: r.spec.contextType, description: r.spec.description ?? "", scheme_names: r.spec.permissions ?? [] }));
  });
  s.get<P<"name">>("/roles/:name", async (req) => {
    caller(deps, req);
    const r = roles().get(req.params.name);
    if (!r) throw notFound("role not found");
    return { name: r.metadata.name, context: r.spec.contextType, description: r.spec.description ?? "", scheme_names: r.spec.permissions ?? [] };
  });
  s.post("/roles", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const f = form(req);
    const name = required(f, "name", "role name cannot be empty");
    if (!NAME.test(name)) throw badRequest("invalid role name");
    const context = required(f, "context", "context cannot be empty");
    if (!["global", "team", "app", "pool"].includes(context)) throw badRequest(`invalid context type "${context}"`);
    if (roles().get(name)) throw conflict("role already exists");
    await client.create<Role>(BerthTypes.Role, { metadata: { name }, spec: { contextType: context, description: str(f, "description") ?? "", permissions: [] } }).catch((e: unknown) => {
      throw fromKubernetes(e, "role");
    });
    for (let i = 0; i < 100 && !roles().get(name); i++) await new Promise((r) => setTimeout(r, 20));
    return reply.code(201).send();
  });
  s.delete<P<"name">>("/roles/:name", async (req, reply) => {
    requireAdmin(caller(deps, req));
    if (!roles().get(req.params.name)) throw notFound("role not found");
    await client.delete(BerthTypes.Role, undefined, req.params.name);
    await apps.synced(BerthTypes.Role, req.params.name, undefined);
    return reply.code(200).send();
  });
  // The root permission ("", every permission) comes first: the CLI builds its tree from
  // permissions[1:] and shows the first as "*" (tsuru/tsuru-client:tsuru/client/permission.go).
  s.get("/permissions", async (req) => {
    caller(deps, req);
    return [
      { name: "", contexts: ["global"] },
      ...PERMISSIONS.map((name) => ({ name, contexts: ["global", name.startsWith("team") ? "team" : name.startsWith("pool") ? "pool" : "app"] })),
    ];
  });
}
