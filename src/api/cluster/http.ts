// Request plumbing shared by the cluster API routes: the caller, the team whose cluster a
// request addresses, JSON bodies.
import type { FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { ApiError, badRequest } from "../errors.ts";
import type { SettingsError } from "../../model/cluster-settings.ts";
import type { Principal } from "../identity/principal.ts";
import { requireTeamMember } from "../identity/principal.ts";

/** 400 for a settings document that fails validation: each failure names its path and rule. */
export class InvalidSettings extends ApiError {
  constructor(readonly errors: SettingsError[]) {
    super(400, `invalid settings: ${errors.map((e) => `${e.message} (${e.rule})`).join("; ")}`);
  }
}

export type P<T extends string> = { Params: Record<T, string> };

/** The caller: front-proxy headers (aggregated mode) or a Berth token (`Authorization: Bearer <token>`). */
export function caller(deps: ApiDeps, req: FastifyRequest): Principal {
  if (req.principal) return req.principal;
  try {
    return deps.identity.authenticate(req.headers.authorization);
  } catch {
    throw new ApiError(401, "a valid Berth token is required: Authorization: Bearer <token>");
  }
}

/**
 * The team whose cluster the request addresses: the `X-Berth-Team` header or `?team=`, else
 * the caller's only team. The caller must be a member (administrators may name any team).
 */
export function teamOf(p: Principal, req: FastifyRequest): string {
  const header = req.headers["x-berth-team"];
  const query = (req.query as Record<string, unknown> | undefined)?.team;
  const named = (typeof header === "string" ? header : typeof query === "string" ? query : "").trim();
  const team = named || (p.teams.size === 1 ? [...p.teams][0]! : "");
  if (!team) throw badRequest("name the team whose cluster this is: the X-Berth-Team header or ?team= (you are in several teams, or none)");
  requireTeamMember(p, team);
  return team;
}

export const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/** The body as a JSON object, or 400. */
export function objectBody(req: FastifyRequest): Record<string, unknown> {
  if (req.body === undefined || req.body === null) return {};
  if (!isObject(req.body)) throw badRequest("the request body must be a JSON object");
  return req.body;
}

/** Names of loggers, leaves and secret keys: what a ConfigMap or Secret key may hold. */
export const KEY = /^[-.a-zA-Z0-9]{1,200}$/;
