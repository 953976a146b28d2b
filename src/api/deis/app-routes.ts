// Deis apps: list, create (a generated name when none is given), details, transfer, destroy,
// logs and one-off commands (deis/deis:controller/api/views.py AppViewSet).
import type { FastifyInstance } from "fastify";
import type { App, AppSpec } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import { keyOf } from "../../kube/resource.ts";
import { runOnce } from "../apps/run.ts";
import { ApiError, badRequest, fromKubernetes, notFound } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { canSeeApp } from "../identity/principal.ts";
import { NAME } from "../identity/store.ts";
import { generateName } from "../names.ts";
import type { DeisHttp, P } from "./http.ts";
import { DEIS_OWNER, body, denied, need, paged, personalTeam, query, text } from "./http.ts";
import { appView, containerViews } from "./views.ts";

const unique = (field: string) => badRequest(`${field}: This field must be unique.`, { [field]: ["This field must be unique."] });

export function appRoutes(s: FastifyInstance, h: DeisHttp): void {
  const { identity, apps, client } = h.deps;

  /**
   * The team that owns what the caller creates: their personal team (created, and joined, on
   * first use, also for users who registered through tsuru), or for callers without a User
   * (team tokens, front-proxy identities) a team they act for.
   */
  const ownerTeam = async (p: Principal): Promise<string> => {
    if (!p.user) {
      const team = [...p.teams].sort()[0];
      if (!team) throw denied();
      return team;
    }
    const user = h.user(p);
    const team = personalTeam(user.spec.username ?? user.spec.email);
    await identity.ensureTeam(team);
    if (!(user.spec.roles ?? []).some((r) => r.contextType === "team" && r.contextValue === team)) await identity.addToTeam(user, team);
    return team;
  };

  s.get("/apps", async (req) => {
    const p = h.who(req);
    return paged(req, apps.apps().filter((a) => canSeeApp(p, a)), appView);
  });

  s.post("/apps", async (req, reply) => {
    const p = h.who(req);
    const b = body(req);
    let name: string | undefined;
    if (b.id !== undefined && b.id !== null && b.id !== "") {
      if (typeof b.id !== "string" || !/^[a-z0-9-]+$/.test(b.id)) throw badRequest("id", { id: ["App IDs can only contain [a-z0-9-]"] });
      if (!NAME.test(b.id) || b.id.length > 40) throw badRequest("id", { id: ["App IDs start and end with a letter or digit and have at most 40 characters."] });
      if (apps.app(b.id)) throw unique("id");
      name = b.id;
    } else {
      name = generateName((n) => !!apps.app(n));
      if (!name) throw new ApiError(503, "Could not find a free application name; name the app (deis apps:create NAME).");
    }
    // "pool" is Berth's own field (the Deis CLI never sends it): where the app runs, else the default pool.
    const poolName = text(b, "pool");
    const pool = poolName ? apps.pool(poolName) : (apps.pools().find((x) => x.spec.default) ?? apps.pools().find((x) => x.spec.public));
    if (!pool) throw poolName ? badRequest("pool", { pool: [`Pool "${poolName}" not found.`] }) : badRequest("No default pool: an administrator must create one (kubectl apply a Pool with default: true).");
    const owner = h.username(p);
    const team = await ownerTeam(p);
    if (poolName && !p.admin && !pool.spec.public && pool.spec.teams?.length && !pool.spec.teams.includes(team)) throw badRequest("pool", { pool: [`Pool "${poolName}" is not open to ${owner}.`] });
    const spec: AppSpec = { image: "registry.k8s.io/pause:3.10", processes: [{ name: "web", replicas: 0, ports: [{ port: 5000 }] }], owner: team, pool: pool.metadata.name };
    let app: App;
    try {
      app = await apps.create(name, spec, pool, owner);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) throw unique("id");
      throw e;
    }
    const marked = await client.mergePatch<App>(BerthTypes.App, app.metadata.namespace, name, { metadata: { annotations: { [DEIS_OWNER]: owner } } }).catch((e: unknown) => {
      throw fromKubernetes(e, `app ${name}`);
    });
    await apps.synced(BerthTypes.App, keyOf(marked), marked.metadata.resourceVersion);
    return reply.code(201).send(appView(marked));
  });

  s.get<P<"app">>("/apps/:app", async (req) => appView(h.load(h.who(req), req.params.app)));

  // Transfer: {"owner": "<username>"} (deis apps:transfer), by the owner or an administrator.
  s.post<P<"app">>("/apps/:app", async (req, reply) => {
    const p = h.who(req);
    const app = h.load(p, req.params.app);
    const to = body(req).owner;
    if (to !== undefined && to !== null && to !== "") {
      if (!h.isOwner(p, app) && !p.admin) throw denied();
      const user = typeof to === "string" ? identity.userByName(to) : undefined;
      if (!user?.spec.username) throw notFound("Not found.");
      const team = personalTeam(user.spec.username);
      await identity.ensureTeam(team);
      const moved = await client
        .mergePatch<App>(BerthTypes.App, app.metadata.namespace, app.metadata.name ?? "", { metadata: { annotations: { [DEIS_OWNER]: user.spec.username } }, spec: { owner: team } })
        .catch((e: unknown) => {
          throw fromKubernetes(e, `app ${app.metadata.name}`);
        });
      await apps.synced(BerthTypes.App, keyOf(moved), moved.metadata.resourceVersion);
    }
    return reply.code(200).send();
  });

  s.delete<P<"app">>("/apps/:app", async (req, reply) => {
    const p = h.who(req);
    const app = h.load(p, req.params.app);
    if (!p.admin && !h.isOwner(p, app)) throw denied();
    await apps.remove(app);
    return reply.code(204).send();
  });

  // Raw text lines, as the controller returns its logger's text (views.py AppViewSet.logs).
  s.get<P<"app">>("/apps/:app/logs", async (req, reply) => {
    const app = h.load(h.who(req), req.params.app);
    const n = Math.max(1, Math.min(10_000, Number(query(req).log_lines ?? 100) || 100));
    const lines: { at: string; line: string }[] = [];
    for (const c of containerViews(app, apps.pods(app)).filter((x) => x.state !== "destroyed")) {
      const pod = apps.pods(app).find((x) => x.metadata.uid === c.uuid);
      if (!pod) continue;
      const raw = await client.requestText(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/log`, { tailLines: n, timestamps: true }).catch(() => "");
      for (const l of raw.split("\n").filter(Boolean)) {
        const sp = l.indexOf(" ");
        const at = sp > 0 ? l.slice(0, sp) : "";
        lines.push({ at, line: `${at.replace(/\.\d+Z$/, "Z").replace(/Z$/, "UTC")} ${app.metadata.name}[${c.type}.${c.num}]: ${sp > 0 ? l.slice(sp + 1) : l}` });
      }
    }
    const out = lines.sort((a, b) => a.at.localeCompare(b.at)).slice(-n);
    return reply.type("text/plain").send(out.map((x) => `${x.line}\n`).join(""));
  });

  // The client decodes Deis' (rc, output) tuple (client/controller/models/apps/apps.go Run).
  s.post<P<"app">>("/apps/:app/run", async (req) => {
    const p = h.who(req);
    const app = h.load(p, req.params.app);
    const b = body(req);
    const { rc, output } = await runOnce(h.deps, app, text(b, "command") ?? need(b, "command"));
    return [rc, output];
  });
}
