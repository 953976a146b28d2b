// tsuru team tokens: Token CRs owned by a team; the value is returned once, at creation.
import type { FastifyInstance } from "fastify";
import { keyOf } from "../../kube/resource.ts";
import type { Token } from "../../model/kinds.ts";
import { BerthTypes, Labels } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, conflict, forbidden, fromKubernetes, notFound } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { requireTeamMember } from "../identity/principal.ts";
import { newToken, tokenHash } from "../identity/secrets.ts";
import { NAME } from "../identity/store.ts";
import { caller, form, int, str, teamOrOnly } from "./http.ts";

type P<T extends string> = { Params: Record<T, string> };

export function tokenRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { client, identity } = deps;
  const teamTokens = () =>
    identity
      .tokens()
      .filter((t) => t.spec.owner.kind === "Team");
  const view = (t: Token, value?: string) => ({
    token_id: t.metadata.name,
    ...(value ? { token: value } : {}),
    team: t.spec.owner.name,
    description: t.spec.description ?? "",
    creator_email: t.metadata.annotations?.["berth.dev/actor"] ?? "",
    created_at: t.metadata.creationTimestamp,
    expires_at: t.spec.expires ?? null,
    last_access: t.status?.lastUsed ?? null,
    roles: (t.spec.roles ?? []).map((r) => ({ name: r.role, contextvalue: r.contextValue ?? "" })),
  });
  const find = (p: Principal, id: string) => {
    const t = teamTokens().find((x) => x.metadata.name === id);
    if (!t || (!p.admin && !p.teams.has(t.spec.owner.name))) throw notFound("Token not found");
    return t;
  };

  /**
   * A team token may only make credentials for its own team that expire no later than itself:
   * no credential outlives or outranks the one that made it.
   */
  const mayMint = (p: Principal, team: string, expiresIn: number) => {
    if (p.user || p.admin) return;
    if (team !== p.name) throw forbidden("A team token can only create tokens for its own team.");
    if (p.expires !== undefined && (expiresIn <= 0 || Date.now() + expiresIn * 1000 > p.expires)) {
      throw forbidden("A team token cannot create a token that expires after itself.");
    }
  };

  s.get("/tokens", async (req, reply) => {
    const p = caller(deps, req);
    const out = teamTokens().filter((t) => p.admin || p.teams.has(t.spec.owner.name)).map((t) => view(t));
    return out.length ? out : reply.code(204).send();
  });
  s.get<P<"token_id">>("/tokens/:token_id", async (req) => view(find(caller(deps, req), req.params.token_id)));
  s.post("/tokens", async (req, reply) => {
    const p = caller(deps, req);
    const f = form(req);
    const team = teamOrOnly(p, str(f, "team"));
    requireTeamMember(p, team);
    if (!identity.team(team)) throw notFound("Team not found");
    const id = str(f, "token_id")?.trim() || `${team}-${newToken().slice(0, 8)}`;
    if (!NAME.test(id)) throw badRequest("Invalid token_id: use lowercase letters, numbers and dashes.");
    if (teamTokens().some((t) => t.metadata.name === id)) throw conflict("Token already exists");
    const expiresIn = int(f, "expires_in", 0);
    if (expiresIn < 0) throw badRequest("expires_in must not be negative");
    mayMint(p, team, expiresIn);
    const value = newToken();
    try {
      const created = await client.create<Token>(BerthTypes.Token, {
        metadata: { name: id, namespace: identity.namespace, labels: { [Labels.managedBy]: "berth" }, annotations: { "berth.dev/actor": p.email ?? p.name } },
        spec: {
          owner: { kind: "Team", name: team },
          kind: "Team",
          tokenHash: tokenHash(value),
          description: str(f, "description") ?? "",
          ...(expiresIn > 0 ? { expires: new Date(Date.now() + expiresIn * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") } : {}),
        },
      });
      await identity.synced(BerthTypes.Token, keyOf(created), created.metadata.resourceVersion);
      return reply.code(201).send(view(created, value));
    } catch (e) {
      throw fromKubernetes(e, `token ${id}`);
    }
  });
  s.put<P<"token_id">>("/tokens/:token_id", async (req, reply) => {
    const p = caller(deps, req);
    const t = find(p, req.params.token_id);
    const f = form(req);
    const spec: Record<string, unknown> = {};
    if (str(f, "description") !== undefined) spec.description = str(f, "description");
    const expiresIn = int(f, "expires_in", 0);
    if (expiresIn > 0) mayMint(p, t.spec.owner.name, expiresIn);
    if (expiresIn > 0) spec.expires = new Date(Date.now() + expiresIn * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const updated = await client.mergePatch<Token>(BerthTypes.Token, t.metadata.namespace, t.metadata.name ?? "", { spec });
    await identity.synced(BerthTypes.Token, keyOf(updated), updated.metadata.resourceVersion);
    return reply.code(200).send();
  });
  s.delete<P<"token_id">>("/tokens/:token_id", async (req, reply) => {
    const t = find(caller(deps, req), req.params.token_id);
    await client.delete(BerthTypes.Token, t.metadata.namespace, t.metadata.name ?? "");
    await identity.synced(BerthTypes.Token, keyOf(t), undefined);
    return reply.code(200).send();
  });
}
