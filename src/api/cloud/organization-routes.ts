// GET /v1/organizations and /v1/organizations/{organizationId}: an API key sees exactly its own
// organization (its Team), as the real API answers ("a list with a single organization
// associated with the API key").
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { caller, ok } from "./http.ts";
import { organizationView } from "./views.ts";

export function organizationRoutes(s: FastifyInstance, deps: ApiDeps): void {
  s.get("/", async (req, reply) => ok(req, reply, [organizationView(caller(deps, req).team)]));
  s.get<{ Params: { organizationId: string } }>("/:organizationId", async (req, reply) => ok(req, reply, organizationView(caller(deps, req, req.params.organizationId).team)));
}
