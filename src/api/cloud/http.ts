// The cloud API's envelope, callers and body checks. Every answer is
// {"status": <http status>, "requestId": "<uuid>", "result": ...} or, for errors,
// {"status": N, "requestId": ..., "error": "<message>"} (the ClickHouse Cloud OpenAPI spec's
// response schema: status number, requestId UUIDv4, result | error).
import { randomUUID } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { CloudKeyRole, Team } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import type { ApiError} from "../errors.ts";
import { badRequest, forbidden, notFound } from "../errors.ts";
import { organizationId } from "../../reconcilers/team.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The cloud API's request id (a UUID v4), in every answer's envelope. */
    cloudRequestId?: string;
  }
}

export const requestId = (req: FastifyRequest): string => (req.cloudRequestId ??= randomUUID());

export function ok(req: FastifyRequest, reply: FastifyReply, result?: unknown): FastifyReply {
  return reply.code(200).send({ status: 200, requestId: requestId(req), ...(result === undefined ? {} : { result }) });
}

export function sendCloudError(req: FastifyRequest, reply: FastifyReply, err: ApiError): void {
  if (err.status === 401) reply.header("WWW-Authenticate", 'Basic realm="berth"');
  reply.code(err.status).send({ status: err.status, requestId: requestId(req), error: err.message });
}

export interface CloudCaller {
  team: Team;
  orgId: string;
  role: CloudKeyRole;
  keyId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID.test(s);

/** The caller (HTTP Basic key id:secret) and, when orgId is given, a check that the key belongs to it (else 404: another organization is not disclosed). */
export function caller(deps: ApiDeps, req: FastifyRequest, orgId?: string): CloudCaller {
  const { team, role, keyId } = deps.identity.authenticateCloudKey(req.headers.authorization);
  const c = { team, role, keyId, orgId: organizationId(team) };
  if (orgId !== undefined && orgId.toLowerCase() !== c.orgId) throw notFound(`Organization ${orgId} not found`);
  return c;
}

export type Action = "read" | "write" | "create" | "delete";

/** Roles: read-only reads; developer also changes services (state, scaling, name, IP access, password); admin also creates and deletes them. */
export function authorize(c: CloudCaller, action: Action): void {
  if (action === "read") return;
  if (c.role === "read-only") throw forbidden("This API key is read-only");
  if ((action === "create" || action === "delete") && c.role !== "admin") throw forbidden(`Only an admin API key may ${action} services`);
}

/** The JSON body as an object (400 otherwise). */
export function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body ?? {};
  if (typeof b !== "object" || Array.isArray(b)) throw badRequest("The request body must be a JSON object");
  return b as Record<string, unknown>;
}

export function optString(b: Record<string, unknown>, field: string, max = 255): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw badRequest(`${field}: must be a string`);
  if (v.length > max) throw badRequest(`${field}: must be at most ${max} characters`);
  return v;
}

export function optBool(b: Record<string, unknown>, field: string): boolean | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw badRequest(`${field}: must be true or false`);
  return v;
}

export function optInt(b: Record<string, unknown>, field: string): number | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) throw badRequest(`${field}: must be a whole number`);
  return v;
}
