// Who is calling, and what they may touch. Admins are explicit (User.spec.admin); everyone
// else acts through team membership: an app is visible to its owner team and granted teams.
import type { App, ServiceInstance, User } from "../../model/kinds.ts";
import { forbidden, notFound } from "../errors.ts";

export interface Principal {
  /** User name or team name (team tokens). */
  name: string;
  email?: string;
  admin: boolean;
  teams: ReadonlySet<string>;
  user?: User;
  tokenHash: string;
  /** When the credential in use expires (ms since the epoch); undefined: never. */
  expires?: number;
}

/** Teams a user belongs to: the team contexts of their roles. */
export function teamsOf(user: User): Set<string> {
  return new Set((user.spec.roles ?? []).filter((r) => r.contextType === "team" && r.contextValue).map((r) => r.contextValue!));
}

/** A user acting as themselves (tokenHash names the credential, if any). */
export function userPrincipal(user: User, tokenHash = "", expires?: number): Principal {
  return { name: user.spec.email, email: user.spec.email, admin: user.spec.admin ?? false, teams: teamsOf(user), user, tokenHash, expires };
}

export function appTeams(app: App): string[] {
  return [...new Set([app.spec.owner, ...(app.spec.teams ?? [])].filter((t): t is string => !!t))];
}

export function canSeeApp(p: Principal, app: App): boolean {
  return p.admin || appTeams(app).some((t) => p.teams.has(t));
}

/** 404 rather than 403 for apps the caller may not see: their existence is not disclosed. */
export function requireApp(p: Principal, app: App | undefined, name: string): App {
  if (!app || !canSeeApp(p, app)) throw notFound(`App ${name} not found.`);
  return app;
}

export function canSeeInstance(p: Principal, si: ServiceInstance): boolean {
  return p.admin || [si.spec.owner, ...(si.spec.teams ?? [])].some((t) => !!t && p.teams.has(t));
}

export function requireAdmin(p: Principal): void {
  if (!p.admin) throw forbidden();
}

export function requireTeamMember(p: Principal, team: string): void {
  if (!p.admin && !p.teams.has(team)) throw forbidden(`You are not a member of team ${team}`);
}
