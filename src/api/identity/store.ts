// Users, teams and tokens as CRs. Reads come from the shared caches; writes go to the API
// server and then wait until the cache has seen them, so a client that writes then reads
// sees its write. Passwords live only as scrypt hashes in Secrets of Berth's namespace;
// tokens only as SHA-256 hashes on Token objects.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { KubeClient } from "../../kube/client.ts";
import { isAlreadyExists, isNotFound } from "../../kube/client.ts";
import { ownerRef } from "../../kube/resource.ts";
import type { KubeObject, ResourceType } from "../../kube/resource.ts";
import { Types, keyOf } from "../../kube/resource.ts";
import type { CloudKeyRole, Team, Token, User } from "../../model/kinds.ts";
import { BerthTypes, Labels } from "../../model/kinds.ts";
import type { InformerFactory } from "../../runtime/informer.ts";
import type { Store } from "../../runtime/store.ts";
import { cacheSynced } from "../read-your-writes.ts";
import { ApiError, badRequest, conflict, forbidden, fromKubernetes, notFound, unauthorized } from "../errors.ts";
import { LoginThrottle } from "./throttle.ts";
import type { Principal } from "./principal.ts";
import { userPrincipal } from "./principal.ts";
import { hashPassword, newToken, tokenHash, verifyPassword } from "./secrets.ts";

const SESSION_MS = 7 * 24 * 3600_000;
/** The ConfigMap (in Berth's namespace) whose atomic creation makes its creator the administrator. */
export const ADMIN_MARKER = "berth-bootstrap-admin";
/** Checked for unknown users, so a login costs the same whether or not the account exists. */
const DUMMY_HASH = hashPassword("berth-dummy-password");
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
    /** The e-mail that becomes administrator when it registers; unset: the first to register. */
    private readonly bootstrapAdmin?: string,
  ) {
    informers.informerFor<User>(BerthTypes.User).addIndex("email", (u) => [u.spec.email.toLowerCase()]);
    informers.informerFor<User>(BerthTypes.User).addIndex("username", (u) => (u.spec.username ? [u.spec.username] : []));
    // Only Tokens in Berth's own namespace are credentials: one written anywhere else (an app
    // namespace a team can write to) is never believed.
    this.tokenInformer().addIndex("hash", (t) => [t.spec.tokenHash ?? t.status?.tokenHash ?? ""]);
    this.tokenInformer().addIndex("owner", (t) => [`${t.spec.owner.kind}/${t.spec.owner.name}`]);
  }

  private tokenInformer() {
    return this.informers.informerFor<Token>(BerthTypes.Token, { namespace: this.namespace });
  }

  /** Tokens in Berth's namespace. */
  tokens(): Token[] {
    return this.tokenInformer().store.list();
  }

  tokensOf(kind: "User" | "Team", name: string): Token[] {
    return this.tokenInformer().store.byIndex("owner", `${kind}/${name}`);
  }

  private store<T extends KubeObject>(t: ResourceType) {
    return this.informers.informerFor<T>(t).store;
  }

  /** Waits (briefly) until the cache holds the object at rv, or has dropped it (rv undefined). */
  synced(t: ResourceType, key: string, rv: string | undefined): Promise<void> {
    // Tokens are read from the cache of Berth's namespace only (see tokenInformer).
    const store = t === BerthTypes.Token ? this.tokenInformer().store : this.informers.informerFor(t).store;
    return cacheSynced(store as Store<KubeObject>, key, rv);
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

  /**
   * Registers a user. The User is created first (a create, so a taken e-mail or name fails
   * here and nothing else is written), then its password Secret, owned by the User (garbage
   * collected with it, never overwritten: its name carries a random part). Who becomes
   * administrator is decided by an atomic create, not by a cache (see claimAdmin).
   */
  async createUser(email: string, password: string, username?: string): Promise<User> {
    if (!EMAIL.test(email)) throw badRequest("Invalid email.", { email: ["Enter a valid email address."] });
    if (username !== undefined && this.userByName(username)) throw conflict("A user with that username already exists.");
    if (password.length < 6 || password.length > 50) throw badRequest("Password length should be least 6 characters and at most 50 characters.");
    if (this.userByEmail(email)) throw conflict("This email is already registered");
    const name = userObjectName(email);
    const secretName = `${name}-password-${randomBytes(4).toString("hex")}`;
    const passwordHash = await hashPassword(password);
    const user = await this.write(BerthTypes.User, `user ${email}`, () =>
      this.client.create<User>(BerthTypes.User, { metadata: { name }, spec: { email, ...(username ? { username } : {}), passwordSecretRef: secretName, admin: false, roles: [] } }),
    ).catch((e: unknown) => {
      throw e instanceof ApiError && e.status === 409 ? conflict("This email is already registered") : e;
    });
    try {
      await this.client.create(Types.Secret, {
        metadata: { name: secretName, namespace: this.namespace, labels: { [Labels.managedBy]: "berth" }, ownerReferences: [ownerRef(user, BerthTypes.User)] },
        type: "Opaque",
        stringData: { passwordHash },
      });
    } catch (e) {
      await this.client.delete(BerthTypes.User, undefined, name, { uid: user.metadata.uid }).catch(() => undefined);
      throw fromKubernetes(e, "password");
    }
    return (await this.claimAdmin(user)) ?? user;
  }

  /**
   * Makes user the administrator if nobody ever was: whoever creates the marker ConfigMap
   * first wins, atomically, whatever any cache says. With a configured bootstrap e-mail, only
   * that user may claim it.
   */
  private async claimAdmin(user: User): Promise<User | undefined> {
    if (this.bootstrapAdmin && this.bootstrapAdmin.toLowerCase() !== user.spec.email.toLowerCase()) return undefined;
    try {
      await this.client.create(Types.ConfigMap, { metadata: { name: ADMIN_MARKER, namespace: this.namespace, labels: { [Labels.managedBy]: "berth" } }, data: { user: user.metadata.name ?? "", email: user.spec.email } });
    } catch (e) {
      if (isAlreadyExists(e)) return undefined;
      throw fromKubernetes(e, "administrator bootstrap");
    }
    return this.write(BerthTypes.User, "user", () => this.client.mergePatch<User>(BerthTypes.User, undefined, user.metadata.name ?? "", { spec: { admin: true } }));
  }

  /** After an upgrade from a version without the marker: an existing administrator holds it. */
  async ensureAdminMarker(): Promise<void> {
    const admin = this.users().find((u) => u.spec.admin && (!this.bootstrapAdmin || u.spec.email.toLowerCase() === this.bootstrapAdmin.toLowerCase()));
    if (!admin) return;
    // Looked up first: a start over a cluster that has it sends no write (a refused create is one).
    if (await this.client.getOrUndefined(Types.ConfigMap, this.namespace, ADMIN_MARKER)) return;
    await this.client
      .create(Types.ConfigMap, { metadata: { name: ADMIN_MARKER, namespace: this.namespace, labels: { [Labels.managedBy]: "berth" } }, data: { user: admin.metadata.name ?? "", email: admin.spec.email } })
      .catch((e: unknown) => {
        if (!isAlreadyExists(e)) throw e;
      });
  }

  async checkPassword(user: User, password: string): Promise<boolean> {
    if (!user.spec.passwordSecretRef) return false;
    const s = await this.client.getOrUndefined<KubeObject & { data?: { passwordHash?: string } }>(Types.Secret, this.namespace, user.spec.passwordSecretRef);
    // A Secret left by an earlier user of the same name is not this user's password.
    if (s && !s.metadata.ownerReferences?.some((r) => r.uid === user.metadata.uid) && s.metadata.ownerReferences?.length) return false;
    const hash = s?.data?.passwordHash ? Buffer.from(s.data.passwordHash, "base64").toString("utf8") : "";
    return verifyPassword(password, hash);
  }

  /** Sets a new password and ends the user's other sessions (all of them but keep). */
  async setPassword(user: User, password: string, keep?: string): Promise<void> {
    if (password.length < 6 || password.length > 50) throw badRequest("Password length should be least 6 characters and at most 50 characters.");
    return this.storePassword(user, password, keep);
  }

  /** setPassword without its length rules (Deis accepts any non-empty password). */
  async writePassword(user: User, password: string, keep?: string): Promise<void> {
    return this.storePassword(user, password, keep);
  }

  private async storePassword(user: User, password: string, keep?: string): Promise<void> {
    const name = user.spec.passwordSecretRef ?? `${user.metadata.name}-password-${randomBytes(4).toString("hex")}`;
    await this.client
      .apply(Types.Secret, { metadata: { name, namespace: this.namespace, labels: { [Labels.managedBy]: "berth" }, ownerReferences: [ownerRef(user, BerthTypes.User)] }, type: "Opaque", stringData: { passwordHash: await hashPassword(password) } }, "berth-api")
      .catch((e: unknown) => {
        throw fromKubernetes(e, "password");
      });
    if (!user.spec.passwordSecretRef) await this.write(BerthTypes.User, "user", () => this.client.mergePatch<User>(BerthTypes.User, undefined, user.metadata.name ?? "", { spec: { passwordSecretRef: name } }));
    for (const t of this.tokensOf("User", user.metadata.name ?? "")) {
      if (t.spec.kind === "Session" && t.spec.tokenHash !== keep) await this.deleteToken(t);
    }
  }

  /**
   * Logs in: a new session token (shown once; stored as its hash). Unknown users cost the same
   * time as wrong passwords (a dummy hash is checked), and repeated failures are throttled
   * per account and per client address.
   */
  async login(email: string, password: string, byUsername = false, from = ""): Promise<{ token: string; user: User }> {
    this.throttle.check([`account:${email.toLowerCase()}`]);
    this.ipThrottle.check([`ip:${from}`]);
    const user = byUsername ? this.userByName(email) : this.userByEmail(email);
    const ok = user ? await this.checkPassword(user, password) : await verifyPassword(password, await DUMMY_HASH);
    if (!user || !ok) {
      this.throttle.failed([`account:${email.toLowerCase()}`]);
      this.ipThrottle.failed([`ip:${from}`]);
      throw unauthorized("Authentication failed, wrong password.");
    }
    this.throttle.succeeded(`account:${email.toLowerCase()}`);
    return { token: await this.issueToken(user, "Session", new Date(Date.now() + SESSION_MS)), user };
  }

  /** 10 wrong passwords per account, 100 per client address (many users may share one, behind a proxy) in 5 minutes. */
  private readonly throttle = new LoginThrottle(10);
  private readonly ipThrottle = new LoginThrottle(100);

  /** A new token for user (shown once; stored as its hash). Sessions always expire (default 7 days). */
  async issueToken(user: User, kind: "Session" | "APIKey", expires: Date | undefined = kind === "Session" ? new Date(Date.now() + SESSION_MS) : undefined): Promise<string> {
    const token = newToken();
    const hash = tokenHash(token);
    await this.write(BerthTypes.Token, "token", () =>
      this.client.create<Token>(BerthTypes.Token, {
        // Owned by the User: deleting the user deletes its tokens, and a token never outlives
        // the user it was issued to (authenticate also checks the owner's uid).
        metadata: { name: `${kind.toLowerCase()}-${hash.slice(0, 20)}`, namespace: this.namespace, labels: { [Labels.managedBy]: "berth" }, ownerReferences: [ownerRef(user, BerthTypes.User)] },
        spec: { owner: { kind: "User", name: user.metadata.name ?? "" }, kind, tokenHash: hash, ...(expires ? { expires: expires.toISOString().replace(/\.\d{3}Z$/, "Z") } : {}) },
      }),
    );
    return token;
  }

  /** The user's API key: the same one on every call (its value is kept in a Secret the key's Token owns), a new one when regenerate is set. */
  async apiKey(user: User, regenerate: boolean): Promise<string> {
    const existing = this.tokensOf("User", user.metadata.name ?? "").filter((t) => t.spec.kind === "APIKey");
    if (!regenerate) {
      for (const t of existing) {
        const s = await this.client.getOrUndefined<KubeObject & { data?: { token?: string } }>(Types.Secret, this.namespace, t.metadata.name ?? "");
        if (s?.data?.token) return Buffer.from(s.data.token, "base64").toString("utf8");
      }
    }
    for (const t of existing) await this.deleteToken(t);
    const value = await this.issueToken(user, "APIKey");
    const token = this.tokenInformer().store.byIndex("hash", tokenHash(value))[0];
    if (token) {
      await this.client.create(Types.Secret, { metadata: { name: token.metadata.name, namespace: this.namespace, labels: { [Labels.managedBy]: "berth" }, ownerReferences: [ownerRef(token, BerthTypes.Token)] }, type: "Opaque", stringData: { token: value } });
    }
    return value;
  }

  private async deleteToken(t: Token): Promise<void> {
    await this.client.delete(BerthTypes.Token, t.metadata.namespace, t.metadata.name ?? "").catch((e: unknown) => {
      if (!isNotFound(e)) throw fromKubernetes(e, "token");
    });
    await this.synced(BerthTypes.Token, keyOf(t), undefined);
  }

  async revoke(hash: string): Promise<void> {
    for (const t of this.tokenInformer().store.byIndex("hash", hash)) await this.deleteToken(t);
  }

  /** The caller behind a bearer token, or 401. Expired tokens, and tokens of a deleted user, do not work. */
  authenticate(raw: string | undefined): Principal {
    const token = raw?.replace(/^(bearer|token|b)\s+/i, "").trim();
    if (!token) throw unauthorized();
    const hash = tokenHash(token);
    const t = this.tokenInformer().store.byIndex("hash", hash)[0];
    const expires = t?.spec.expires ? Date.parse(t.spec.expires) : undefined;
    // A cloud API key is a key id and a secret together (HTTP Basic): never a bearer token alone.
    if (!t || t.spec.kind === "CloudKey" || (expires !== undefined && expires <= Date.now())) throw unauthorized();
    if (t.spec.owner.kind === "Team") {
      // A team token acts for its team, and for the teams its roles name.
      const extra = (t.spec.roles ?? []).filter((r) => r.contextType === "team" && r.contextValue).map((r) => r.contextValue!);
      return { name: t.spec.owner.name, admin: false, teams: new Set([t.spec.owner.name, ...extra]), tokenHash: hash, expires };
    }
    const user = this.store<User>(BerthTypes.User).get(t.spec.owner.name);
    const ownerUid = t.metadata.ownerReferences?.find((r) => r.kind === "User")?.uid;
    if (!user || (ownerUid && ownerUid !== user.metadata.uid)) throw unauthorized();
    return userPrincipal(user, hash, expires);
  }

  /**
   * A new cloud API key of a team (its organization): the key id is the Token's name, the secret
   * is shown once and stored only as its SHA-256 hash.
   */
  async createCloudKey(team: Team, role: CloudKeyRole, description = ""): Promise<{ keyId: string; keySecret: string; token: Token }> {
    const keyId = `ck-${randomBytes(10).toString("hex")}`;
    const keySecret = newToken();
    const token = await this.write(BerthTypes.Token, "key", () =>
      this.client.create<Token>(BerthTypes.Token, {
        metadata: { name: keyId, namespace: this.namespace, labels: { [Labels.managedBy]: "berth" }, ownerReferences: [ownerRef(team, BerthTypes.Team)] },
        spec: { owner: { kind: "Team", name: team.metadata.name ?? "" }, kind: "CloudKey", roles: [{ role, contextType: "team", contextValue: team.metadata.name ?? "" }], tokenHash: tokenHash(keySecret), description },
      }),
    );
    return { keyId, keySecret, token };
  }

  /**
   * The cloud API caller behind HTTP Basic `key id : key secret`, or 401: a CloudKey Token of
   * Berth's namespace, not expired, whose team still is the one it was issued for.
   */
  authenticateCloudKey(header: string | undefined): { team: Team; role: CloudKeyRole; keyId: string } {
    const m = /^basic\s+(\S+)\s*$/i.exec(header ?? "");
    if (!m) throw unauthorized("Authentication required: HTTP Basic with your API key id and key secret");
    const decoded = Buffer.from(m[1] ?? "", "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const [keyId, secret] = colon < 0 ? [decoded, ""] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
    const t = NAME.test(keyId) ? this.tokenInformer().store.get(`${this.namespace}/${keyId}`) : undefined;
    const stored = Buffer.from(t?.spec.tokenHash ?? t?.status?.tokenHash ?? "", "hex");
    const given = Buffer.from(tokenHash(secret), "hex");
    const matches = stored.length === given.length && timingSafeEqual(stored, given);
    const expires = t?.spec.expires ? Date.parse(t.spec.expires) : undefined;
    if (!t || t.spec.kind !== "CloudKey" || !matches || (expires !== undefined && expires <= Date.now())) throw unauthorized("Invalid API key id or key secret");
    const team = this.team(t.spec.owner.name);
    const teamUid = t.metadata.ownerReferences?.find((r) => r.kind === "Team")?.uid;
    if (!team || (teamUid && teamUid !== team.metadata.uid)) throw unauthorized("Invalid API key id or key secret");
    const role = t.spec.roles?.[0]?.role;
    return { team, role: role === "admin" || role === "developer" ? role : "read-only", keyId };
  }

  async createTeam(name: string, creator: Principal, tags: string[] = []): Promise<Team> {
    // A team token cannot create teams: it would make a credential for something it does not own.
    if (!creator.user && !creator.admin) throw forbidden("Only users can create teams.");
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

  // --- Deis accounts: cancel, token regeneration, password reset, Deis 1.13's registration --

  /** Revokes a user's tokens (only those of the given kinds, when given), except the one hashed `keep`. */
  async revokeUserTokens(user: User, opts: { kinds?: NonNullable<Token["spec"]["kind"]>[]; keep?: string } = {}): Promise<number> {
    const doomed = this.tokensOf("User", user.metadata.name ?? "").filter((t) => (!opts.kinds || opts.kinds.includes(t.spec.kind ?? "Session")) && t.spec.tokenHash !== opts.keep);
    for (const t of doomed) await this.deleteToken(t);
    return doomed.length;
  }

  /**
   * Deletes a user and, at once rather than by garbage collection, their tokens. The password
   * Secret is owned by the User: the garbage collector removes it, and it is no credential for
   * anyone meanwhile (checkPassword wants its owner's uid).
   */
  async deleteUser(user: User): Promise<void> {
    await this.revokeUserTokens(user);
    await this.client.delete(BerthTypes.User, undefined, user.metadata.name ?? "", { uid: user.metadata.uid }).catch((e: unknown) => {
      if (!isNotFound(e)) throw fromKubernetes(e, "user");
    });
    await this.synced(BerthTypes.User, keyOf(user), undefined);
  }

  /**
   * createUser with the rules the dialect has already checked (Deis 1.13 accepts short
   * passwords and an e-mail another account has), under the object name it chose: the User
   * first (a create: a taken name fails here), then its owned password Secret, then the
   * administrator claim, as createUser does.
   */
  async createUserChecked(opts: { email: string; password: string; username: string; objectName: string }): Promise<User> {
    const user = await this.write(BerthTypes.User, `user ${opts.username}`, () =>
      this.client.create<User>(BerthTypes.User, { metadata: { name: opts.objectName }, spec: { email: opts.email, username: opts.username, admin: false, roles: [] } }),
    );
    try {
      await this.writePassword(user, opts.password);
    } catch (e) {
      await this.client.delete(BerthTypes.User, undefined, opts.objectName, { uid: user.metadata.uid }).catch(() => undefined);
      throw e;
    }
    return (await this.claimAdmin(user)) ?? this.users().find((u) => u.metadata.uid === user.metadata.uid) ?? user;
  }
}
