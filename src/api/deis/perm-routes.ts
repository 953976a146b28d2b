// Deis app permissions: collaborators by username (deis/deis:controller/api/views.py
// AppPermsViewSet). A grant is the collaborator's personal team on App.spec.teams.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { notFound } from "../errors.ts";
import type { DeisHttp, P } from "./http.ts";
import { body, denied, need, personalTeam } from "./http.ts";

export function permRoutes(s: FastifyInstance, h: DeisHttp): void {
  const { identity, apps } = h.deps;
  s.get<P<"app">>("/apps/:app/perms", async (req) => ({ users: h.grantees(h.load(h.who(req), req.params.app)) }));
  s.post<P<"app">>("/apps/:app/perms", async (req, reply) => {
    const p = h.who(req);
    const app = h.load(p, req.params.app);
    if (!p.admin && !h.isOwner(p, app)) throw denied();
    const user = identity.userByName(need(body(req), "username"));
    if (!user?.spec.username) throw notFound("Not found.");
    const team = personalTeam(user.spec.username);
    await identity.ensureTeam(team);
    await apps.patch(app, (cur) => (cur.spec.teams?.includes(team) ? undefined : { teams: [...(cur.spec.teams ?? []), team] }), h.username(p));
    return reply.code(201).send();
  });
  // The owner or an administrator revokes anyone; a collaborator may remove themselves.
  const revoke = async (req: FastifyRequest<P<"app" | "username">>, reply: FastifyReply) => {
    const p = h.who(req);
    const app = h.load(p, req.params.app);
    const user = identity.userByName(req.params.username);
    if (!user?.spec.username) throw notFound("Not found.");
    if (!h.grantees(app).includes(user.spec.username)) throw denied();
    if (user.spec.username !== h.username(p) && !p.admin && !h.isOwner(p, app)) throw denied();
    const team = personalTeam(user.spec.username);
    await apps.patch(app, (cur) => (cur.spec.teams?.includes(team) ? { teams: (cur.spec.teams ?? []).filter((t) => t !== team) } : undefined), h.username(p));
    return reply.code(204).send();
  };
  // Deis documents POST; its own client sends DELETE: both work.
  s.post<P<"app" | "username">>("/apps/:app/perms/:username", revoke);
  s.delete<P<"app" | "username">>("/apps/:app/perms/:username", revoke);
}
