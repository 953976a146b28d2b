// Users, teams and tokens as CRs. Reads come from the shared caches; writes go to the API
// server and then wait until the cache has seen them, so a client that writes then reads
// sees its write. Passwords live only as scrypt hashes in Secrets of Berth's namespace;
// tokens only as SHA-256 hashes on Token objects.
import { createHash } from "node:crypto";
import type { KubeClient } from "../../kube/client.ts";
import { isAlreadyExists } from "../../kube/client.ts";
import type { KubeObject, ResourceType } from "../../kube/resource.ts";
import { Types, keyOf } from "../../kube/resource.ts";
import type { Team, Token, User } from "../../model/kinds.ts";
import { BerthTypes, Labels } from "../../model/kinds.ts";
import type { InformerFactory } from "../../runtime/informer.ts";
import { cacheSynced } from "../read-your-writes.ts";
import { badRequest, conflict, fromKubernetes, notFound, unauthorized } from "../errors.ts";
import type { Principal } from "./principal.ts";
import { teamsOf } from "./principal.ts";
import { hashPassword, newToken, tokenHash, verifyPassword } from "./secrets.ts";

const SESSION_MS = 7 * 24 * 3600_000;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
export const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-safe, stable object name for a user's e-mail. */
export const userObjectName = (email: string) => `u-${createHash("sha256").update(email.toLowerCase()).digest("hex").slice(0, 20)}`;

export class IdentityStore {
  constructor(
    private readonly client: KubeClient,
    private readonly informers: InformerFactory,
    /** Namespace of Berth's own objects (tokens, password Secrets). */
    readonly namespace: string,
  ) {
    informers.informerFor<User>(BerthTypes.User).addIndex("email", (u) => [u.spec.email.toLowerCase()]);
    informers.informerFor<User>(BerthTypes.User).addIndex("username", (u) => (u.spec.username ? [u.spec.username] : []));
    informers.informerFor<Token>(BerthTypes.Token).addIndex("hash", (t) => [t.spec.tokenHash ?? t.status?.tokenHash ?? ""]);
  }

  private store<T extends KubeObject>(t: ResourceType) {
    return this.informers.informerFor<T>(t).store;
  }

  /** Waits (briefly) until the cache holds the object at rv, or has dropped it (rv undefined). */
  synced(t: ResourceType, key: string, rv: string | undefined): Promise<void> {
    return cacheSynced(this.informers, t, key, rv);
  }

  async write<T extends KubeObject>(t: ResourceType, what: string, op: () => Promise<T>): Promise<T> {
    try {
      const obj = await op();
      await this.synced(t, keyOf(obj), obj.metadata.resourceVersion);
      return obj;
    } catch (e) {
      if (isAlreadyExists(e)) throw conflict(`${what} already exists`);
      throw fromKubernetes(e, what);
    }
  }

  userByEmail(email: string): User | undefined {
    return this.store<User>(BerthTypes.User).byIndex("email", email.toLowerCase())[0];
  }

  userByName(username: string): User | undefined {
    return this.store<User>(BerthTypes.User).byIndex("username", username)[0];
  }

  users(): User[] {
    return this.store<User>(BerthTypes.User).list();
  }

  team(name: string): Team | undefined {
    return this.store<Team>(BerthTypes.Team).get(name);
  }

  teams(): Team[] {
    return this.store<Team>(BerthTypes.Team).list();
  }

  async createUser(email: string, password: string, username?: string): Promise<User> {
    if (!EMAIL.test(email)) throw badRequest("Invalid email.", { email: ["Enter a valid email address."] });
    if (username !== undefined && this.userByName(username)) throw conflict("A user with that username already exists.");
    if (password.length < 6 || password.length > 50) throw badRequest("Password length should be least 6 characters and at most 50 characters.");
    if (this.userByEmail(email)) throw conflict("This email is already registered");
    const name = userObjectName(email);
    const first = this.users().length === 0;
    const secretName = `${name}-password`;
    await this.client
      .apply(Types.Secret, { metadata: { name: secretName, namespace: this.namespace, labels: { [Labels.managedBy]: "berth" } }, type: "Opaque", stringData: { passwordHash: await hashPassword(password) } }, "berth-api")
      .catch((e: unknown) => {
        throw fromKubernetes(e, "password");
      });
    // The first user becomes the administrator (as Deis does); later ones are plain users.
    return this.write(BerthTypes.User, `user ${email}`, () =>
      this.client.create<User>(BerthTypes.User, { metadata: { name }, spec: { email, ...(username ? { username } : {}), passwordSecretRef: secretName, admin: first, roles: [] } }),
    );
  }

  async checkPassword(user: User, password: string): Promise<boolean> {
    if (!user.spec.passwordSecretRef) return false;
    const s = await this.client.getOrUndefined<KubeObject & { data?: { passwordHash?: string } }>(Types.Secret, this.namespace, user.spec.passwordSecretRef);
    const hash = s?.data?.passwordHash ? Buffer.from(s.data.passwordHash, "base64").toString("utf8") : "";
    return verifyPassword(password, hash);
  }

  async setPassword(user: User, password: string): Promise<void> {
    if (password.length < 6 || password.length > 50) throw badRequest("Password length should be least 6 characters and at most 50 characters.");
    await this.client.apply(
      Types.Secret,
      { metadata: { name: user.spec.passwordSecretRef ?? `${user.metadata.name}-password`, namespace: this.namespace }, type: "Opaque", stringData: { passwordHash: await hashPassword(password) } },
      "berth-api",
    );
  }

  /** Logs in: a new session token (shown once; stored as its hash). */
  async login(email: string, password: string, byUsername = false): Promise<{ token: string; user: User }> {
    const user = byUsername ? this.userByName(email) : this.userByEmail(email);
    if (!user || !(await this.checkPassword(user, password))) throw unauthorized("Authentication failed, wrong password.");
    return { token: await this.issueToken(user, "Session", new Date(Date.now() + SESSION_MS)), user };
  }

  async issueToken(user: User, kind: "Session" | "APIKey", expires?: Date): Promise<string> {
    const token = newToken();
    const hash = tokenHash(token);
    await this.write(BerthTypes.Token, "token", () =>
      this.client.create<Token>(BerthTypes.Token, {
        metadata: { name: `${kind.toLowerCase()}-${hash.slice(0, 20)}`, namespace: this.namespace, labels: { [Labels.managedBy]: "berth" } },
        spec: { owner: { kind: "User", name: user.metadata.name ?? "" }, kind, tokenHash: hash, ...(expires ? { expires: expires.toISOString().replace(/\.\d{3}Z$/, "Z") } : {}) },
      }),
    );
    return token;
  }

  async revoke(hash: string): Promise<void> {
    for (const t of this.store<Token>(BerthTypes.Token).byIndex("hash", hash)) {
      await this.client.delete(BerthTypes.Token, t.metadata.namespace, t.metadata.name ?? "").catch(() => undefined);
      await this.synced(BerthTypes.Token, keyOf(t), undefined);
    }
  }

  /** The caller behind a bearer token, or 401. Expired tokens do not work. */
  authenticate(raw: string | undefined): Principal {
    const token = raw?.replace(/^(bearer|token|b)\s+/i, "").trim();
    if (!token) throw unauthorized();
    const hash = tokenHash(token);
    const t = this.store<Token>(BerthTypes.Token).byIndex("hash", hash)[0];
    if (!t || (t.spec.expires && Date.parse(t.spec.expires) <= Date.now())) throw unauthorized();
    if (t.spec.owner.kind === "Team") {
      // A team token acts for its team, and for the teams its roles name.
      const extra = (t.spec.roles ?? []).filter((r) => r.contextType === "team" && r.contextValue).map((r) => r.contextValue!);
      return { name: t.spec.owner.name, admin: false, teams: new Set([t.spec.owner.name, ...extra]), tokenHash: hash };
    }
    const user = this.store<User>(BerthTypes.User).get(t.spec.owner.name);
    if (!user) throw unauthorized();
    return { name: user.spec.email, email: user.spec.email, admin: user.spec.admin ?? false, teams: teamsOf(user), user, tokenHash: hash };
  }

  async createTeam(name: string, creator: Principal, tags: string[] = []): Promise<Team> {
    if (!NAME.test(name) || name.length > 63) throw badRequest("Invalid team name: use lowercase letters, numbers and dashes (at most 63 characters).");
    if (this.team(name)) throw conflict("team already exists");
    const team = await this.write(BerthTypes.Team, `team ${name}`, () => this.client.create<Team>(BerthTypes.Team, { metadata: { name }, spec: { tags } }));
    if (creator.user) await this.addToTeam(creator.user, name);
    return team;
  }

  /** Ensures a team exists (personal teams of Deis users), without membership changes. */
  async ensureTeam(name: string): Promise<void> {
    if (this.team(name)) return;
    await this.write(BerthTypes.Team, `team ${name}`, () => this.client.create<Team>(BerthTypes.Team, { metadata: { name }, spec: { description: "personal team" } })).catch((e: unknown) => {
      if (!(e instanceof Error && /already exists/.test(e.message))) throw e;
    });
  }

  async addToTeam(user: User, team: string): Promise<void> {
    const roles = [...(user.spec.roles ?? []).filter((r) => !(r.contextType === "team" && r.contextValue === team)), { role: "team-member", contextType: "team" as const, contextValue: team }];
    await this.write(BerthTypes.User, "user", () => this.client.mergePatch<User>(BerthTypes.User, undefined, user.metadata.name ?? "", { spec: { roles } }));
  }

  async deleteTeam(name: string): Promise<void> {
    if (!this.team(name)) throw notFound("Team not found");
    await this.client.delete(BerthTypes.Team, undefined, name).catch((e: unknown) => {
      throw fromKubernetes(e, `team ${name}`);
    });
    await this.synced(BerthTypes.Team, name, undefined);
  }
}
