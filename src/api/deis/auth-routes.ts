// Deis accounts: register, login, cancel, token regeneration, password change, the user list
// and administrators. Rules as the Deis 1.13 controller has them
// (deis/deis:controller/api/views.py UserManagementViewSet, TokenManagementViewSet,
// AdminPermsViewSet, UserView; controller/api/permissions.py CanRegenerateToken).
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { App, User } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import { ApiError, badRequest, notFound } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { userObjectName } from "../identity/store.ts";
import type { DeisHttp, P } from "./http.ts";
import { body, denied, need, paged, personalTeam, text } from "./http.ts";
import { deisTime, ownerOf } from "./views.ts";

/** Django 1.x auth.User.username: at most 30 of letters, digits and @.+-_. */
const USERNAME = /^[\w.@+-]+$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const SESSION_MS = 7 * 24 * 3600_000;
const unique = (field: string) => badRequest(`${field}: This field must be unique.`, { [field]: ["This field must be unique."] });

/** Django's integer primary key, which the client decodes as a number (client/controller/api/users.go). */
const numericId = (u: User) => parseInt(createHash("sha256").update(u.metadata.uid ?? u.metadata.name ?? "").digest("hex").slice(0, 8), 16);

export function userView(u: User) {
  return {
    id: numericId(u),
    last_login: null,
    is_superuser: u.spec.admin ?? false,
    username: u.spec.username ?? u.spec.email,
    first_name: "",
    last_name: "",
    email: u.spec.email,
    is_staff: u.spec.admin ?? false,
    is_active: true,
    date_joined: deisTime(u.metadata.creationTimestamp),
    groups: [],
    user_permissions: [],
  };
}

export function authRoutes(s: FastifyInstance, h: DeisHttp): void {
  const { identity, apps, client } = h.deps;

  /** The account a request names in "username" (admins, or the caller naming themselves), else the caller's. */
  const target = (p: Principal, named: unknown): User => {
    const me = h.user(p);
    if (named === undefined || named === null || named === "") return me;
    if (typeof named !== "string") throw badRequest("username", { username: ["Not a valid string."] });
    if (named !== me.spec.username && !p.admin) throw denied();
    const u = identity.userByName(named);
    if (!u) throw notFound("Not found.");
    return u;
  };
  const session = (u: User) => identity.issueToken(u, "Session", new Date(Date.now() + SESSION_MS));

  s.post("/auth/register", async (req, reply) => {
    const b = body(req);
    const name = need(b, "username");
    if (typeof b.password !== "string" || b.password === "") throw badRequest("password", { password: [b.password === "" ? "This field may not be blank." : "This field is required."] });
    const password = b.password;
    if (!USERNAME.test(name)) throw badRequest("username", { username: ["Enter a valid username. This value may contain only letters, numbers and @/./+/-/_ characters."] });
    if (name.length > 30) throw badRequest("username", { username: ["Ensure this field has no more than 30 characters."] });
    if (password.length > 4096) throw badRequest("password", { password: ["Ensure this field has no more than 4096 characters."] });
    const given = text(b, "email")?.trim();
    if (given && !EMAIL.test(given)) throw badRequest("email", { email: ["Enter a valid email address."] });
    if (identity.userByName(name)) throw unique("username");
    // A personal team someone already belongs to (made through another dialect) would hand the
    // new account's apps to them: the name is taken.
    const team = personalTeam(name);
    if (identity.users().some((u) => (u.spec.roles ?? []).some((r) => r.contextType === "team" && r.contextValue === team))) throw unique("username");
    // Deis does not require an e-mail, nor a unique one; Berth's users are keyed by e-mail, so
    // an account whose e-mail is taken (or that has none) is keyed by its username instead.
    const email = given || `${personalTeam(name).slice("user-".length)}@users.berth.local`;
    const emailTaken = !!identity.userByEmail(email);
    let user: User;
    try {
      user =
        !emailTaken && password.length >= 6 && password.length <= 50
          ? await identity.createUser(email, password, name)
          : await identity.createUserChecked({ email, password, username: name, objectName: userObjectName(emailTaken ? `deis:${name}` : email) });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) throw unique("username");
      throw e;
    }
    await identity.ensureTeam(team);
    await identity.addToTeam(user, team);
    return reply.code(201).send({ ...userView(user), username: name, email, first_name: text(b, "first_name") ?? "", last_name: text(b, "last_name") ?? "" });
  });

  s.post("/auth/login", async (req) => {
    const b = body(req);
    try {
      const { token } = await identity.login(need(b, "username"), need(b, "password"), true, req.ip);
      return { token };
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) throw badRequest("Unable to log in with provided credentials.", { non_field_errors: ["Unable to log in with provided credentials."] });
      throw e;
    }
  });

  s.delete("/auth/cancel", async (req, reply) => {
    const p = h.who(req);
    const u = target(p, body(req).username);
    const name = u.spec.username ?? u.spec.email;
    const team = u.spec.username ? personalTeam(u.spec.username) : undefined;
    const owns = (a: App) => ownerOf(a) === name || (!!team && a.spec.owner === team);
    if (apps.apps().some(owns)) throw new ApiError(409, `${name} still has applications assigned. Delete or transfer ownership`);
    if (team) {
      // Grants to the account go with it: a later account of the same name must not inherit them.
      for (const a of apps.apps().filter((x) => x.spec.teams?.includes(team))) {
        const without = (cur: App) => (cur.spec.teams?.includes(team) ? { teams: (cur.spec.teams ?? []).filter((t) => t !== team) } : undefined);
        await apps.patch(a, a.spec.locked ? { ...without(a), locked: true } : without, h.username(p));
      }
      if (identity.team(team)) await identity.deleteTeam(team);
    }
    await identity.deleteUser(u);
    return reply.code(204).send();
  });

  s.post("/auth/tokens", async (req, reply) => {
    const p = h.who(req);
    const b = body(req);
    const me = h.user(p);
    // CanRegenerateToken: naming a user, or all users, is for administrators.
    if (("username" in b || "all" in b) && !p.admin) throw denied();
    if ("all" in b) {
      for (const u of identity.users()) await identity.revokeUserTokens(u, { kinds: ["Session"] });
      return reply.type("application/json").send(JSON.stringify(""));
    }
    const u = "username" in b ? target(p, b.username) : me;
    await identity.revokeUserTokens(u, { kinds: ["Session"] });
    return { token: await session(u) };
  });

  s.post("/auth/passwd", async (req) => {
    const p = h.who(req);
    const b = body(req);
    const me = h.user(p);
    const u = target(p, b.username);
    if (typeof b.new_password !== "string" || b.new_password === "") throw badRequest("new_password", { new_password: ["This field is required."] });
    if (b.new_password.length > 4096) throw badRequest("new_password", { new_password: ["Ensure this field has no more than 4096 characters."] });
    // An administrator may reset without the current password; anyone else must give it.
    if (b.password || !p.admin) {
      if (typeof b.password !== "string" || !(await identity.checkPassword(u, b.password))) throw badRequest("Current password does not match");
    }
    // Other sessions end with the old password (the caller's own stays).
    await identity.writePassword(u, b.new_password, u.metadata.name === me.metadata.name ? p.tokenHash : undefined);
    return { status: "password set" };
  });

  s.get("/users", async (req) => {
    const p = h.who(req);
    if (!p.admin) throw denied();
    return paged(req, identity.users().map(userView));
  });

  // --- administrators ---------------------------------------------------------------------
  s.get("/admin/perms", async (req) => {
    if (!h.who(req).admin) throw denied();
    return paged(
      req,
      identity
        .users()
        .filter((u) => u.spec.admin)
        .map((u) => ({ username: u.spec.username ?? u.spec.email, is_superuser: true })),
    );
  });
  const setAdmin = async (name: string, admin: boolean) => {
    const u = identity.userByName(name);
    if (!u) throw notFound("Not found.");
    await identity.write(BerthTypes.User, "user", () => client.mergePatch<User>(BerthTypes.User, undefined, u.metadata.name ?? "", { spec: { admin } }));
  };
  s.post("/admin/perms", async (req, reply) => {
    if (!h.who(req).admin) throw denied();
    await setAdmin(need(body(req), "username"), true);
    return reply.code(201).send();
  });
  s.delete<P<"username">>("/admin/perms/:username", async (req, reply) => {
    if (!h.who(req).admin) throw denied();
    await setAdmin(req.params.username, false);
    return reply.code(204).send();
  });
}
