// Deis builds (an image deploy is a release), releases and rollback.
import type { FastifyInstance } from "fastify";
import type { App, Release } from "../../model/kinds.ts";
import { badRequest, notFound } from "../errors.ts";
import { NAME } from "../identity/store.ts";
import { releaseAfter } from "./config-routes.ts";
import type { DeisHttp, P } from "./http.ts";
import { body, need, paged } from "./http.ts";
import { deisTime, ownerOf, releaseView } from "./views.ts";

const buildView = (app: App, r: Release) => ({
  app: app.metadata.name,
  created: deisTime(r.metadata.creationTimestamp),
  dockerfile: "",
  image: r.spec.image,
  owner: r.spec.author ?? ownerOf(app),
  procfile: Object.fromEntries(r.spec.processes.filter((x) => x.command?.length).map((x) => [x.name, (x.command ?? []).slice(-1)[0] ?? ""])),
  sha: "",
  updated: deisTime(r.metadata.creationTimestamp),
  uuid: r.metadata.uid,
});

export function releaseRoutes(s: FastifyInstance, h: DeisHttp): void {
  const { apps } = h.deps;
  s.get<P<"app">>("/apps/:app/builds", async (req) => {
    const app = h.load(h.who(req), req.params.app);
    const builds = apps.releases(app).filter((r) => !r.spec.image.startsWith("registry.k8s.io/pause")).reverse();
    return paged(req, builds.map((r) => buildView(app, r)));
  });
  s.post<P<"app">>("/apps/:app/builds", async (req, reply) => {
    const p = h.who(req);
    const app = h.load(p, req.params.app);
    const b = body(req);
    const image = need(b, "image");
    const procfile = (b.procfile ?? {}) as Record<string, unknown>;
    if (typeof procfile !== "object" || procfile === null || Array.isArray(procfile)) throw badRequest("procfile", { procfile: ["Must be an object of process types to commands."] });
    for (const [type, cmd] of Object.entries(procfile)) {
      if (!NAME.test(type) || typeof cmd !== "string") throw badRequest("procfile", { procfile: [`Invalid process type or command: ${type}`] });
    }
    const processesOf = (cur: App) => {
      const fromProcfile = Object.entries(procfile as Record<string, string>).map(([name, cmd]) => ({
        name,
        command: ["sh", "-c", cmd],
        replicas: cur.spec.processes.find((x) => x.name === name)?.replicas ?? (name === "web" ? 1 : 0),
        ...(name === "web" ? { ports: [{ port: 5000 }] } : {}),
      }));
      const base = fromProcfile.length ? fromProcfile : cur.spec.processes;
      return base.every((x) => (x.replicas ?? 1) === 0) ? base.map((x, i) => (i === 0 ? { ...x, replicas: 1 } : x)) : base;
    };
    const updated = await apps.patch(app, (cur) => ({ image, processes: processesOf(cur) }), h.username(p));
    const { app: fresh, version } = await releaseAfter(h, updated);
    const rel = apps.releases(fresh).find((r) => r.spec.version === version);
    return reply
      .code(201)
      .header("Deis-Release", String(version))
      .header("X-Deis-Release", String(version))
      .send(rel ? buildView(fresh, rel) : { app: app.metadata.name, image });
  });
  s.get<P<"app">>("/apps/:app/releases", async (req) => {
    const app = h.load(h.who(req), req.params.app);
    return paged(
      req,
      apps
        .releases(app)
        .reverse()
        .map((r) => releaseView(app, r)),
    );
  });
  s.get<P<"app" | "version">>("/apps/:app/releases/:version", async (req) => {
    const app = h.load(h.who(req), req.params.app);
    const v = Number(req.params.version.replace(/^v/, ""));
    const r = apps.releases(app).find((x) => x.spec.version === v);
    if (!r) throw notFound("Not found.");
    return releaseView(app, r);
  });
  s.post<P<"app">>("/apps/:app/releases/rollback", async (req, reply) => {
    const p = h.who(req);
    const app = h.load(p, req.params.app);
    const releases = apps.releases(app);
    const current = app.status?.currentReleaseVersion ?? releases.at(-1)?.spec.version ?? 1;
    const raw = body(req).version;
    const wanted = raw === undefined || raw === null ? current - 1 : Number(raw);
    if (!Number.isInteger(wanted) || wanted < 1) throw badRequest("version cannot be below 1");
    const target = releases.find((r) => r.spec.version === wanted);
    if (!target) throw notFound(`Release v${wanted} not found.`);
    const updated = await apps.patch(app, await apps.rollbackPatch(app, target), h.username(p));
    const { version } = await releaseAfter(h, updated);
    return reply.code(201).send({ version });
  });
}
