// Secrets: GET /v1/secrets/list, GET/POST/DELETE /secrets/secret/{ID} (no /v1, as documented).
// A secret is a Kubernetes Secret in Berth's namespace, owned by the caller's Team and labelled
// for it; its keys become private environment variables of the jobs whose settings name it.
// Values are never logged (request logs carry the path only).
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { badRequest, notFound } from "../errors.ts";
import type { P } from "./http.ts";
import { caller, objectBody, teamOf } from "./http.ts";

const ID = /^[-._a-zA-Z0-9]{1,200}$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

export function secretRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const id = (raw: string) => {
    if (!ID.test(raw)) throw badRequest(`invalid secret ID ${JSON.stringify(raw)}: letters, digits, "-", "_" and "."`);
    return raw;
  };
  s.get("/v1/secrets/list", async (req) => ({ keys: deps.cluster.secretIds(teamOf(caller(deps, req), req)) }));
  s.get<P<"ID">>("/secrets/secret/:ID", async (req) => {
    const team = teamOf(caller(deps, req), req);
    const value = deps.cluster.secret(team, id(req.params.ID));
    if (!value) throw notFound(`secret ${req.params.ID} not found`);
    return value;
  });
  s.post<P<"ID">>("/secrets/secret/:ID", async (req) => {
    const team = teamOf(caller(deps, req), req);
    const values = objectBody(req);
    for (const [k, v] of Object.entries(values)) {
      if (!SECRET_KEY.test(k)) throw badRequest(`invalid key ${JSON.stringify(k)}: letters, digits, "-", "_" and "."`);
      if (typeof v !== "string") throw badRequest(`the value of ${k} must be a string`);
    }
    await deps.cluster.putSecret(team, deps.identity.team(team), id(req.params.ID), values as Record<string, string>);
    return values;
  });
  s.delete<P<"ID">>("/secrets/secret/:ID", async (req) => {
    const team = teamOf(caller(deps, req), req);
    if (!(await deps.cluster.deleteSecret(team, id(req.params.ID)))) throw notFound(`secret ${req.params.ID} not found`);
    return {};
  });
}
