// tsuru roles: Role CRs, their permissions, and assignments to users (User.spec.roles) and
// team tokens (Token.spec.roles). Assigning a role in a team context is how a user joins a team.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { keyOf } from "../../kube/resource.ts";
import type { Role, RoleBinding, Token, User } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, conflict, fromKubernetes, notFound } from "../errors.ts";
import { requireAdmin } from "../identity/principal.ts";
import { caller, form, list, required, str } from "./http.ts";

type P<T extends string> = { Params: Record<T, string> };
const CONTEXTS = ["global", "team", "app", "pool"] as const;

export function roleRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { client, informers, identity, apps } = deps;
  const roles = () => informers.informerFor<Role>(BerthTypes.Role).store;
  const role = (name: string) => {
    const r = roles().get(name);
    if (!r) throw notFound("role not found");
    return r;
  };
  const patchRole = async (r: Role, spec: Partial<Role["spec"]>) => {
    const updated = await client.mergePatch<Role>(BerthTypes.Role, undefined, r.metadata.name ?? "", { spec }).catch((e: unknown) => {
      throw fromKubernetes(e, "role");
    });
    await apps.synced(BerthTypes.Role, keyOf(updated), updated.metadata.resourceVersion);
  };
  const binding = (r: Role, contextValue: string | undefined): RoleBinding => {
    const contextType = r.spec.contextType as RoleBinding["contextType"];
    if (contextType !== "global" && !contextValue) throw badRequest(`role ${r.metadata.name} needs a ${contextType} context value`);
    if (contextType === "team" && !identity.team(contextValue!)) throw notFound("Team not found");
    return { role: r.metadata.name ?? "", contextType, ...(contextType !== "global" ? { contextValue } : {}) };
  };
  const same = (a: RoleBinding, b: RoleBinding) => a.role === b.role && (a.contextType ?? "global") === (b.contextType ?? "global") && (a.contextValue ?? "") === (b.contextValue ?? "");

  s.put("/roles", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const f = form(req);
    const r = role(required(f, "name", "role name cannot be empty"));
    const ctx = str(f, "contextType");
    if (ctx && !CONTEXTS.includes(ctx as (typeof CONTEXTS)[number])) throw badRequest(`invalid context type "${ctx}"`);
    await patchRole(r, { ...(ctx ? { contextType: ctx } : {}), ...(str(f, "description") !== undefined ? { description: str(f, "description") } : {}) });
    return reply.code(200).send();
  });
  s.post<P<"name">>("/roles/:name/permissions", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const r = role(req.params.name);
    const add = list(form(req), "permission");
    if (!add.length) throw badRequest("permission cannot be empty");
    for (const p of add) if (!/^[a-z][a-z-]*(\.[a-z][a-z-]*)*$/.test(p)) throw badRequest(`invalid permission "${p}"`);
    await patchRole(r, { permissions: [...new Set([...(r.spec.permissions ?? []), ...add])] });
    return reply.code(200).send();
  });
  s.delete<P<"name" | "permission">>("/roles/:name/permissions/:permission", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const r = role(req.params.name);
    if (!r.spec.permissions?.includes(req.params.permission)) throw notFound("permission not in role");
    await patchRole(r, { permissions: r.spec.permissions.filter((p) => p !== req.params.permission) });
    return reply.code(200).send();
  });

  const setUserRoles = async (u: User, roles: RoleBinding[]) => {
    await identity.write(BerthTypes.User, "user", () => client.mergePatch<User>(BerthTypes.User, undefined, u.metadata.name ?? "", { spec: { roles } }));
  };
  s.post<P<"name">>("/roles/:name/user", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const r = role(req.params.name);
    const f = form(req);
    const u = identity.userByEmail(required(f, "email", "you must provide an email"));
    if (!u) throw notFound("User not found.");
    const b = binding(r, str(f, "context"));
    if ((u.spec.roles ?? []).some((x) => same(x, b))) throw conflict("role already assigned to the user in this context");
    await setUserRoles(u, [...(u.spec.roles ?? []), b]);
    return reply.code(200).send();
  });
  s.delete<P<"name" | "email">>("/roles/:name/user/:email", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const r = role(req.params.name);
    const u = identity.userByEmail(req.params.email);
    if (!u) throw notFound("User not found.");
    const b = binding(r, str(form(req), "context"));
    if (!(u.spec.roles ?? []).some((x) => same(x, b))) throw notFound("role not assigned to the user in this context");
    await setUserRoles(u, (u.spec.roles ?? []).filter((x) => !same(x, b)));
    return reply.code(200).send();
  });

  const token = (id: string) => {
    const t = identity.tokens().find((x) => x.metadata.name === id && x.spec.owner.kind === "Team");
    if (!t) throw notFound("Token not found");
    return t;
  };
  const setTokenRoles = async (t: Token, roles: RoleBinding[]) => {
    const updated = await client.mergePatch<Token>(BerthTypes.Token, t.metadata.namespace, t.metadata.name ?? "", { spec: { roles } });
    await identity.synced(BerthTypes.Token, keyOf(updated), updated.metadata.resourceVersion);
  };
  s.post<P<"name">>("/roles/:name/token", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const r = role(req.params.name);
    const f = form(req);
    const t = token(required(f, "token_id", "you must provide a token_id"));
    const b = binding(r, str(f, "context"));
    if ((t.spec.roles ?? []).some((x) => same(x, b))) throw conflict("role already assigned to the token in this context");
    await setTokenRoles(t, [...(t.spec.roles ?? []), b]);
    return reply.code(200).send();
  });
  s.delete<P<"name" | "token_id">>("/roles/:name/token/:token_id", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const r = role(req.params.name);
    const t = token(req.params.token_id);
    const b = binding(r, str(form(req), "context"));
    await setTokenRoles(t, (t.spec.roles ?? []).filter((x) => !same(x, b)));
    return reply.code(200).send();
  });

  // Default roles: granted on user-create or team-create (Role.spec.defaultFor).
  s.get("/role/default", async (req) => {
    caller(deps, req);
    return roles()
      .list()
      .filter((r) => r.spec.defaultFor)
      .map((r) => ({ name: r.metadata.name, context: r.spec.contextType, events: [r.spec.defaultFor] }));
  });
  const setDefault = (on: boolean) => async (req: FastifyRequest) => {
    requireAdmin(caller(deps, req));
    const f = form(req);
    for (const event of ["user-create", "team-create"]) {
      for (const name of list(f, event)) await patchRole(role(name), { defaultFor: on ? event : "" });
    }
  };
  s.post("/role/default", async (req, reply) => {
    await setDefault(true)(req);
    return reply.code(200).send();
  });
  s.delete("/role/default", async (req, reply) => {
    await setDefault(false)(req);
    return reply.code(200).send();
  });
}
