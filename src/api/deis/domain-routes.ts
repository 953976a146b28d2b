// Deis domains of an app (deis/deis:controller/api/serializers.py DomainSerializer).
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { App } from "../../model/kinds.ts";
import { badRequest, notFound } from "../errors.ts";
import type { DeisHttp, P } from "./http.ts";
import { body, need, paged } from "./http.ts";
import { deisTime, ownerOf } from "./views.ts";

/** Deis 1.13's hostname rules; the message it gives, or undefined when the name is fine. */
export function domainProblem(value: string): string | undefined {
  if (value.length > 255) return "Hostname must be 255 characters or less.";
  const v = value.endsWith(".") ? value.slice(0, -1) : value;
  const labels = v.split(".");
  if (v.includes("xip.io")) return undefined;
  if (labels[0] === "*") return "Adding a wildcard subdomain is currently not supported.";
  const allowed = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;
  for (const label of labels) {
    if (!allowed.test(label) || label.includes("--") || /^\d+$/.test(label) || (labels.length === 1 && /\d/.test(label))) return "Hostname does not look valid.";
  }
  return undefined;
}

const domainView = (app: App, d: string) => ({
  uuid: createHash("sha256").update(`${app.metadata.uid}/${d}`).digest("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, "$1-$2-$3-$4-$5"),
  owner: ownerOf(app),
  created: deisTime(app.metadata.creationTimestamp),
  updated: deisTime(app.metadata.creationTimestamp),
  app: app.metadata.name,
  domain: d,
});

export function domainRoutes(s: FastifyInstance, h: DeisHttp): void {
  const { apps } = h.deps;
  s.get<P<"app">>("/apps/:app/domains", async (req) => {
    const app = h.load(h.who(req), req.params.app);
    return paged(
      req,
      (app.spec.domains ?? []).map((d) => domainView(app, d)),
    );
  });
  s.post<P<"app">>("/apps/:app/domains", async (req, reply) => {
    const p = h.who(req);
    const app = h.load(p, req.params.app);
    const d = need(body(req), "domain").toLowerCase().replace(/\.$/, "");
    const problem = domainProblem(d);
    if (problem) throw badRequest("domain", { domain: [problem] });
    if (apps.apps().some((a) => a.spec.domains?.includes(d))) throw badRequest("domain", { domain: [`The domain ${d} is already in use by another app`] });
    await apps.patch(app, (cur) => (cur.spec.domains?.includes(d) ? undefined : { domains: [...(cur.spec.domains ?? []), d] }), h.username(p));
    return reply.code(201).send(domainView(app, d));
  });
  s.delete<P<"app" | "domain">>("/apps/:app/domains/:domain", async (req, reply) => {
    const p = h.who(req);
    const app = h.load(p, req.params.app);
    if (!app.spec.domains?.includes(req.params.domain)) throw notFound("Not found.");
    const gone = req.params.domain;
    await apps.patch(app, (cur) => (cur.spec.domains?.includes(gone) ? { domains: cur.spec.domains.filter((d) => d !== gone) } : undefined), h.username(p));
    return reply.code(204).send();
  });
}
