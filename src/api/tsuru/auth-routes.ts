// tsuru auth, users and teams.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { forbidden, notFound, unauthorized } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { requireAdmin, teamsOf } from "../identity/principal.ts";
import type { User } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import { caller, form, list, required, str } from "./http.ts";

const scheme = { name: "native", default: true, data: {} };

/** tsuru's user info: capitalised fields, roles with their contexts. */
function userInfo(u: User) {
  const roles = (u.spec.roles ?? []).map((r) => ({ Name: r.role, ContextType: r.contextType ?? "global", ContextValue: r.contextValue ?? "" }));
  if (u.spec.admin) roles.unshift({ Name: "AllowAll", ContextType: "global", ContextValue: "" });
  return { Email: u.spec.email, Roles: roles, Permissions: roles.map((r) => ({ Name: r.Name === "AllowAll" ? "" : "app", ContextType: r.ContextType, ContextValue: r.ContextValue })), Groups: [] };
}

export function authRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { identity } = deps;
  s.get("/auth/scheme", async () => ({ name: scheme.name, data: scheme.data }));
  s.get("/auth/schemes", async () => [scheme]);

  const login = async (req: FastifyRequest, email: string, password: string) => {
    // Only "token": the CLI decodes this into a map of strings.
    const { token } = await identity.login(email, password, false, req.ip);
    return { token };
  };
  s.post("/auth/login", async (req) => {
    const f = form(req);
    return login(req, required(f, "email", "you must provide an email"), required(f, "password", "you must provide a password"));
  });
  s.post<{ Params: { email: string } }>("/users/:email/tokens", async (req) => login(req, req.params.email, required(form(req), "password", "you must provide a password")));
  s.delete("/users/tokens", async (req, reply) => {
    const p = caller(deps, req);
    await identity.revoke(p.tokenHash);
    return reply.code(200).send();
  });

  s.post("/users", async (req, reply) => {
    const f = form(req);
    await identity.createUser(required(f, "email", "Invalid email."), required(f, "password", "You must provide a password."));
    return reply.code(201).send();
  });
  s.get("/users/info", async (req) => {
    const p = caller(deps, req);
    if (!p.user) throw forbidden("team tokens have no user");
    return userInfo(p.user);
  });
  s.get("/users", async (req, reply) => {
    const p = caller(deps, req);
    const users = p.admin ? identity.users() : p.user ? [p.user] : [];
    const email = str(form(req), "userEmail");
    const out = users.filter((u) => !email || u.spec.email === email).map(userInfo);
    return out.length ? out : reply.code(204).send();
  });
  s.delete("/users", async (req, reply) => {
    const p = caller(deps, req);
    const target = str(form(req), "user") ?? p.email ?? "";
    if (target !== p.email) requireAdmin(p);
    const user = identity.userByEmail(target);
    if (!user) throw notFound("User not found.");
    await deps.client.delete(BerthTypes.User, undefined, user.metadata.name ?? "");
    return reply.code(200).send();
  });
  s.put("/users/password", async (req, reply) => {
    const p = caller(deps, req);
    const f = form(req);
    if (!p.user) throw forbidden("team tokens have no password");
    if (!(await identity.checkPassword(p.user, required(f, "old", "Both the old and the new passwords are required.")))) {
      throw forbidden("The given password didn't match the user's current password.");
    }
    await identity.setPassword(p.user, required(f, "new", "Both the old and the new passwords are required."), p.tokenHash);
    return reply.code(200).send();
  });
  // token show (GET: the user's API key, the same every time) / token regenerate (POST: a new
  // one, revoking the old): the body is a bare JSON string, which the CLI decodes into a string
  // (tsuru/tsuru-client:tsuru/client/auth.go ShowAPIToken/RegenerateAPIToken). Admins may name
  // another user with ?user=.
  const apiKey = (regenerate: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const p = caller(deps, req);
    if (!p.user) throw unauthorized();
    const email = str(form(req), "user");
    let user = p.user;
    if (email && email !== p.email) {
      requireAdmin(p);
      const other = identity.userByEmail(email);
      if (!other) throw notFound("User not found.");
      user = other;
    }
    return reply.type("application/json").send(JSON.stringify(await identity.apiKey(user, regenerate)));
  };
  s.get("/users/api-key", apiKey(false));
  s.post("/users/api-key", apiKey(true));

  /** A team the caller belongs to (or any, for admins); others answer 404, existing or not. */
  const memberTeam = (p: Principal, name: string) => {
    const team = identity.team(name);
    if (!team || (!p.admin && !p.teams.has(name))) throw notFound("Team not found");
    return team;
  };

  s.post("/teams", async (req, reply) => {
    const p = caller(deps, req);
    const f = form(req);
    await identity.createTeam(required(f, "name", "You must provide the team name"), p, list(f, "tag"));
    return reply.code(201).send();
  });
  s.get("/teams", async (req, reply) => {
    const p = caller(deps, req);
    const teams = identity.teams().filter((t) => p.admin || p.teams.has(t.metadata.name ?? ""));
    if (!teams.length) return reply.code(204).send();
    return teams.map((t) => ({ name: t.metadata.name, tags: t.spec.tags ?? [], permissions: p.admin || p.teams.has(t.metadata.name ?? "") ? ["team"] : [] }));
  });
  s.get<{ Params: { name: string } }>("/teams/:name", async (req) => {
    const team = memberTeam(caller(deps, req), req.params.name);
    const members = identity.users().filter((u) => teamsOf(u).has(req.params.name));
    const apps = deps.apps.apps().filter((a) => a.spec.owner === req.params.name || a.spec.teams?.includes(req.params.name));
    const pools = deps.apps.pools().filter((pl) => pl.spec.public || pl.spec.teams?.includes(req.params.name));
    return {
      name: team.metadata.name,
      tags: team.spec.tags ?? [],
      users: members.map(userInfo),
      apps: apps.map((a) => ({ name: a.metadata.name })),
      pools: pools.map((pl) => ({ name: pl.metadata.name })),
    };
  });
  s.put<{ Params: { name: string } }>("/teams/:name", async (req, reply) => {
    memberTeam(caller(deps, req), req.params.name);
    const tags = list(form(req), "tag");
    await deps.client.mergePatch(BerthTypes.Team, undefined, req.params.name, { spec: { tags } });
    return reply.code(200).send();
  });
  s.delete<{ Params: { name: string } }>("/teams/:name", async (req, reply) => {
    memberTeam(caller(deps, req), req.params.name);
    const apps = deps.apps.apps().filter((a) => a.spec.owner === req.params.name);
    if (apps.length) throw forbidden(`This team cannot be removed because there are apps tied to it: ${apps.map((a) => a.metadata.name).join(", ")}`);
    await identity.deleteTeam(req.params.name);
    return reply.code(200).send();
  });
}
