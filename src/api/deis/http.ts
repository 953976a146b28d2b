// Request plumbing shared by the Deis v1 routes: the caller, JSON body fields, the app a
// caller may see, personal teams, bounded waits, and the wire details the Deis 1.13 client
// checks on every response (API version header, Django's reason phrases).
import { STATUS_CODES } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { App, User } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { ApiError, badRequest, forbidden } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { requireApp } from "../identity/principal.ts";
import { personalTeam } from "../identity/personal-team.ts";
import { page } from "./views.ts";

export { personalTeam };

export type P<T extends string> = { Params: Record<T, string> };
export type Body = Record<string, unknown>;

/**
 * The REST API version the Deis 1.13 client expects (deis/deis:version/version.go,
 * `APIVersion = "1.7"`); it prints a warning on every command when DEIS_API_VERSION differs
 * (deis/deis:client/controller/client/http.go, checkAPICompatibility).
 */
export const DEIS_API_VERSION = "1.7";
export const DEIS_PLATFORM_VERSION = "1.13.4";

/** DRF's PermissionDenied text (rest_framework/exceptions.py). */
export const PERMISSION_DENIED = "You do not have permission to perform this action.";
export const denied = () => forbidden(PERMISSION_DENIED);

/** Version headers on every Deis response, and Django 1.x's upper-case reason phrase ("404 NOT FOUND"). */
export function stamp(reply: FastifyReply): void {
  reply.header("DEIS_API_VERSION", DEIS_API_VERSION);
  reply.header("X_DEIS_API_VERSION", DEIS_API_VERSION);
  reply.header("DEIS_PLATFORM_VERSION", DEIS_PLATFORM_VERSION);
  reply.header("X_DEIS_PLATFORM_VERSION", DEIS_PLATFORM_VERSION);
  reply.raw.statusMessage = djangoReason(reply.statusCode);
}

/** Django 1.x's REASON_PHRASES: the standard phrases in upper case ("NOT FOUND", "NO CONTENT"). */
export const djangoReason = (status: number) => (STATUS_CODES[status] ?? "Unknown Status Code").toUpperCase();

export const body = (req: FastifyRequest): Body => (req.body && typeof req.body === "object" && !Array.isArray(req.body) ? (req.body as Body) : {});
export const text = (b: Body, k: string): string | undefined => (typeof b[k] === "string" ? (b[k] as string) : undefined);
/** A required string field, in DRF's error shape when missing or blank. */
export const need = (b: Body, k: string): string => {
  if (b[k] === undefined || b[k] === null) throw badRequest(`${k}: This field is required.`, { [k]: ["This field is required."] });
  const v = typeof b[k] === "string" || typeof b[k] === "number" ? String(b[k]).trim() : undefined;
  if (v === undefined) throw badRequest(`${k}: Not a valid string.`, { [k]: ["Not a valid string."] });
  if (!v) throw badRequest(`${k}: This field may not be blank.`, { [k]: ["This field may not be blank."] });
  return v;
};
export const query = (req: FastifyRequest) => (req.query ?? {}) as Record<string, string>;
export const paged = <T, V = T>(req: FastifyRequest, items: T[], view?: (item: T) => V) => page(items, query(req), req.url, view);

/** Polls until pred holds or timeoutMs passed; true when it held. Never unbounded. */
export async function until(pred: () => boolean, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (pred()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** What every Deis route family needs: the caller, their Deis name, the apps they may see. */
export class DeisHttp {
  constructor(readonly deps: ApiDeps) {}

  who(req: FastifyRequest): Principal {
    if (req.principal) return req.principal;
    if (!req.headers.authorization) throw new ApiError(401, "Authentication credentials were not provided.");
    try {
      return this.deps.identity.authenticate(req.headers.authorization);
    } catch {
      throw new ApiError(401, "Invalid token.");
    }
  }

  /** The caller as a user (team tokens and front-proxy callers without a User get 403). */
  user(p: Principal): User {
    if (!p.user) throw denied();
    // By object name, never by e-mail: Deis lets two accounts share an e-mail.
    const name = p.user.metadata.name;
    return this.deps.identity.users().find((u) => u.metadata.name === name) ?? p.user;
  }

  /** The name Deis shows for the caller: the Deis username, else the e-mail (tsuru users), else the team. */
  username(p: Principal): string {
    return p.user?.spec.username ?? p.name;
  }

  load(p: Principal, name: string): App {
    return requireApp(p, this.deps.apps.app(name), name);
  }

  /** The Deis user whose personal team this is, if any. */
  userOfTeam(team: string): User | undefined {
    return this.deps.identity.users().find((u) => !!u.spec.username && personalTeam(u.spec.username) === team);
  }

  /** Collaborators: users whose personal team was granted the app. */
  grantees(app: App): string[] {
    const teams = new Set(app.spec.teams ?? []);
    return this.deps.identity
      .users()
      .map((u) => u.spec.username)
      .filter((n): n is string => !!n && teams.has(personalTeam(n)))
      .sort();
  }

  isOwner(p: Principal, app: App): boolean {
    const owner = app.metadata.annotations?.[DEIS_OWNER];
    return owner !== undefined ? owner === this.username(p) : !!app.spec.owner && p.teams.has(app.spec.owner);
  }
}

/** Who owns an app in Deis' eyes (Deis has one owning user per app). */
export const DEIS_OWNER = "berth.dev/deis-owner";
