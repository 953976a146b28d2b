// The Deis v1 controller API over the same CRs as tsuru and kubectl. JSON bodies,
// "Authorization: token <t>", paged lists, errors as Django REST Framework renders them
// ({"detail": ...} or {"field": ["message"]}), X-Deis-Release on changes that make a release.
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { App, AppSpec, Release, User } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { ApiError, badRequest, forbidden, notFound } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { requireAdmin, requireApp } from "../identity/principal.ts";
import { NAME } from "../identity/store.ts";
import type { Dialect } from "../server.ts";
import { appView, containerViews, deisTime, ownerOf, page, releaseView } from "./views.ts";
import { runOnce } from "../apps/run.ts";

type P<T extends string> = { Params: Record<T, string> };
type Body = Record<string, unknown>;
const SSH_KEY = /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( .*)?$/;
const WORDS_A = ["brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lively", "merry", "nimble", "proud", "quiet", "swift", "witty"];
const WORDS_B = ["badger", "beacon", "comet", "falcon", "harbor", "lantern", "meadow", "otter", "pebble", "quartz", "raven", "summit", "tundra", "walrus", "zephyr"];

const body = (req: FastifyRequest): Body => (req.body && typeof req.body === "object" && !Array.isArray(req.body) ? (req.body as Body) : {});
const text = (b: Body, k: string): string | undefined => (typeof b[k] === "string" ? (b[k] as string) : undefined);
const need = (b: Body, k: string): string => {
  const v = text(b, k)?.trim();
  if (!v) throw badRequest(`${k}: This field is required.`, { [k]: ["This field is required."] });
  return v;
};

/** A Deis user's personal team: how per-user app permissions map onto Berth's team model. */
export const personalTeam = (username: string) => `user-${username}`;

export const deisDialect: Dialect<ApiDeps> = {
  name: "deis",
  prefixes: ["/v1"],
  sendError(reply, err) {
    reply.code(err.status).header("X_DEIS_API_VERSION", "1.0").send(err.fields ?? { detail: err.message });
  },
  routes(s: FastifyInstance, deps: ApiDeps) {
    const { identity, apps, client } = deps;
    s.addHook("onSend", async (_req, reply) => {
      reply.header("X_DEIS_API_VERSION", "1.0");
      reply.header("X_DEIS_PLATFORM_VERSION", "1.0.0-berth");
    });
    const who = (req: FastifyRequest): Principal => {
      if (req.principal) return req.principal;
      if (!req.headers.authorization) throw new ApiError(401, "Authentication credentials were not provided.");
      try {
        return identity.authenticate(req.headers.authorization);
      } catch {
        throw new ApiError(401, "Invalid token.");
      }
    };
    const username = (p: Principal) => p.user?.spec.username ?? p.name;
    const load = (p: Principal, name: string) => requireApp(p, apps.app(name), name);
    const actor = (p: Principal) => username(p);
    /** Waits until the cache shows the App's release for its current spec; returns the version. */
    const releaseAfter = async (app: App, before: number) => {
      const done = await apps.waitFor(app, (a) => !!a && a.status?.observedGeneration === a.metadata.generation && (a.status?.currentReleaseVersion ?? 0) > before, 30_000);
      return done?.status?.currentReleaseVersion ?? before;
    };

    s.get("/", async (req) => {
      who(req);
      return { detail: "Berth: Deis v1 API" };
    });

    // --- auth -------------------------------------------------------------------------
    s.post("/auth/register", async (req, reply) => {
      const b = body(req);
      const name = need(b, "username");
      const password = need(b, "password");
      if (!NAME.test(name) || name.length > 30) throw badRequest("username", { username: ["Enter a valid username: lowercase letters, numbers and dashes."] });
      const email = text(b, "email") || `${name}@users.berth.local`;
      const user = await identity.createUser(email, password, name);
      await identity.ensureTeam(personalTeam(name));
      await identity.addToTeam(user, personalTeam(name));
      return reply.code(201).send({
        id: user.metadata.uid,
        last_login: null,
        is_superuser: user.spec.admin ?? false,
        username: name,
        first_name: text(b, "first_name") ?? "",
        last_name: text(b, "last_name") ?? "",
        email,
        is_staff: user.spec.admin ?? false,
        is_active: true,
        date_joined: deisTime(user.metadata.creationTimestamp),
        groups: [],
        user_permissions: [],
      });
    });
    s.post("/auth/login", async (req) => {
      const b = body(req);
      try {
        const { token } = await identity.login(need(b, "username"), need(b, "password"), true);
        return { token };
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw badRequest("Unable to log in with provided credentials.", { non_field_errors: ["Unable to log in with provided credentials."] });
        throw e;
      }
    });
    s.delete("/auth/cancel", async (req, reply) => {
      const p = who(req);
      if (!p.user) throw forbidden();
      await client.delete(BerthTypes.User, undefined, p.user.metadata.name ?? "");
      await identity.revoke(p.tokenHash);
      return reply.code(204).send();
    });
    s.post("/auth/tokens", async (req) => {
      const p = who(req);
      if (!p.user) throw forbidden();
      await identity.revoke(p.tokenHash);
      return { token: await identity.issueToken(p.user, "Session") };
    });
    s.post("/auth/passwd", async (req) => {
      const p = who(req);
      const b = body(req);
      if (!p.user || !(await identity.checkPassword(p.user, need(b, "password")))) throw badRequest("Current password does not match", { detail: ["Current password does not match"] });
      await identity.setPassword(p.user, need(b, "new_password"));
      return {};
    });

    // --- apps -------------------------------------------------------------------------
    s.get("/apps", async (req) => {
      const p = who(req);
      const list = apps.apps().filter((a) => p.admin || (a.spec.owner && p.teams.has(a.spec.owner)) || a.spec.teams?.some((t) => p.teams.has(t)));
      return page(list.map(appView), req.query as Record<string, string>, req.url);
    });
    s.post("/apps", async (req, reply) => {
      const p = who(req);
      const b = body(req);
      let name = text(b, "id");
      if (name !== undefined && (!NAME.test(name) || name.length > 40)) throw badRequest("id", { id: ["App IDs can only contain [a-z0-9-]"] });
      if (!name) {
        const pick = <T>(xs: T[]) => xs[randomBytes(1)[0]! % xs.length]!;
        do name = `${pick(WORDS_A)}-${pick(WORDS_B)}`;
        while (apps.app(name));
      }
      const pool = apps.pools().find((x) => x.spec.default) ?? apps.pools().find((x) => x.spec.public);
      if (!pool) throw badRequest("No default pool: an administrator must create one (kubectl apply a Pool with default: true).");
      const team = personalTeam(username(p));
      const spec: AppSpec = { image: "registry.k8s.io/pause:3.10", processes: [{ name: "web", replicas: 0, ports: [{ port: 5000 }] }], owner: team, pool: pool.metadata.name };
      const app = await apps.create(name, spec, pool, actor(p));
      await client.mergePatch(BerthTypes.App, app.metadata.namespace, name, { metadata: { annotations: { "berth.dev/deis-owner": username(p) } } });
      await apps.synced(BerthTypes.App, `${app.metadata.namespace}/${name}`, undefined).catch(() => undefined);
      return reply.code(201).send(appView({ ...app, metadata: { ...app.metadata, annotations: { ...app.metadata.annotations, "berth.dev/deis-owner": username(p) } } }));
    });
    s.get<P<"app">>("/apps/:app", async (req) => appView(load(who(req), req.params.app)));
    s.delete<P<"app">>("/apps/:app", async (req, reply) => {
      const p = who(req);
      const app = load(p, req.params.app);
      if (!p.admin && ownerOf(app) !== username(p)) throw forbidden("Only the app's owner or an administrator can destroy it.");
      await apps.remove(app);
      return reply.code(204).send();
    });
    s.get<P<"app">>("/apps/:app/logs", async (req, reply) => {
      const app = load(who(req), req.params.app);
      const lines: string[] = [];
      for (const pod of apps.pods(app)) {
        const t = await client.requestText(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/log`, { tailLines: 100 }).catch(() => "");
        for (const l of t.split("\n").filter(Boolean)) lines.push(`${app.metadata.name}[${pod.metadata.labels?.["berth.dev/process"] ?? ""}.${pod.metadata.name}]: ${l}`);
      }
      return reply.type("text/plain").send(JSON.stringify(lines.join("\n") + (lines.length ? "\n" : "")));
    });
    s.post<P<"app">>("/apps/:app/run", async (req) => {
      const p = who(req);
      const app = load(p, req.params.app);
      const command = need(body(req), "command");
      return runOnce(deps, app, command);
    });

    // --- containers and scale ------------------------------------------------------------
    s.get<P<"app">>("/apps/:app/containers", async (req) => {
      const app = load(who(req), req.params.app);
      return page(containerViews(app, apps.pods(app)), req.query as Record<string, string>, req.url);
    });
    s.get<P<"app" | "type">>("/apps/:app/containers/:type", async (req) => {
      const app = load(who(req), req.params.app);
      return page(containerViews(app, apps.pods(app)).filter((c) => c.type === req.params.type), req.query as Record<string, string>, req.url);
    });
    s.post<P<"app">>("/apps/:app/scale", async (req, reply) => {
      const p = who(req);
      const app = load(p, req.params.app);
      const b = body(req);
      const wanted = Object.entries(b);
      if (!wanted.length) throw badRequest("Must scale at least one container type", { detail: ["Must scale at least one container type"] });
      for (const [type, n] of wanted) {
        if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > 1000) throw badRequest(`Invalid scaling format: ${type}`, { [type]: ["Must be a whole number between 0 and 1000."] });
        if (!app.spec.processes.some((x) => x.name === type)) throw badRequest(`Container type ${type} does not exist in application`, { detail: [`Container type ${type} does not exist in application`] });
      }
      const processes = app.spec.processes.map((x) => (x.name in b ? { ...x, replicas: b[x.name] as number } : x));
      await apps.patch(app, { processes }, actor(p));
      return reply.code(204).send();
    });

    // --- config ---------------------------------------------------------------------------
    const configView = (app: App) => ({
      owner: ownerOf(app),
      app: app.metadata.name,
      values: {
        ...Object.fromEntries((app.spec.env ?? []).map((e) => [e.name, e.value ?? ""])),
        DEIS_APP: app.metadata.name,
        DEIS_RELEASE: app.status?.currentRelease ?? "v1",
      },
      memory: Object.fromEntries(app.spec.processes.filter((x) => x.resources?.memory).map((x) => [x.name, toDeisMemory(x.resources!.memory!)])),
      cpu: Object.fromEntries(app.spec.processes.filter((x) => x.resources?.cpu).map((x) => [x.name, toShares(x.resources!.cpu!)])),
      tags: app.spec.nodeSelector ?? {},
      created: deisTime(app.metadata.creationTimestamp),
      updated: deisTime(app.metadata.creationTimestamp),
      uuid: app.metadata.uid,
    });
    s.get<P<"app">>("/apps/:app/config", async (req) => configView(load(who(req), req.params.app)));
    s.post<P<"app">>("/apps/:app/config", async (req, reply) => {
      const p = who(req);
      const app = load(p, req.params.app);
      const b = body(req);
      const values = b.values ?? {};
      if (typeof values !== "object" || Array.isArray(values)) throw badRequest("values", { values: ["Must be an object of names to strings (null unsets)."] });
      const { processes, nodeSelector } = applyLimits(app, b);
      const env = new Map((app.spec.env ?? []).map((e) => [e.name, e.value ?? ""]));
      for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || k.startsWith("DEIS_")) throw badRequest("values", { values: [`Config keys must start with a letter or underscore and not be reserved: ${k}`] });
        if (v === null) env.delete(k);
        else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") env.set(k, String(v));
        else throw badRequest("values", { values: [`${k}: values must be strings`] });
      }
      const before = app.status?.currentReleaseVersion ?? 0;
      const updated = await apps.patch(app, { env: [...env].map(([name, value]) => ({ name, value })), processes, nodeSelector }, actor(p));
      const version = await releaseAfter(updated, before);
      const fresh = apps.app(req.params.app) ?? updated;
      return reply.code(201).header("X-Deis-Release", String(version)).send(configView(fresh));
    });

    // --- domains ------------------------------------------------------------------------
    const domainView = (app: App, d: string) => ({ app: app.metadata.name, created: deisTime(app.metadata.creationTimestamp), domain: d, owner: ownerOf(app), updated: deisTime(app.metadata.creationTimestamp) });
    s.get<P<"app">>("/apps/:app/domains", async (req) => {
      const app = load(who(req), req.params.app);
      return page((app.spec.domains ?? []).map((d) => domainView(app, d)), req.query as Record<string, string>, req.url);
    });
    s.post<P<"app">>("/apps/:app/domains", async (req, reply) => {
      const p = who(req);
      const app = load(p, req.params.app);
      const d = need(body(req), "domain").toLowerCase();
      if (!/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(d)) throw badRequest("domain", { domain: ["Hostname does not look valid."] });
      if (apps.apps().some((a) => a.spec.domains?.includes(d))) throw badRequest("domain", { domain: ["Domain is already in use by another application"] });
      await apps.patch(app, { domains: [...(app.spec.domains ?? []), d] }, actor(p));
      return reply.code(201).send(domainView(app, d));
    });
    s.delete<P<"app" | "domain">>("/apps/:app/domains/:domain", async (req, reply) => {
      const p = who(req);
      const app = load(p, req.params.app);
      if (!app.spec.domains?.includes(req.params.domain)) throw notFound("Not found.");
      await apps.patch(app, { domains: app.spec.domains.filter((d) => d !== req.params.domain) }, actor(p));
      return reply.code(204).send();
    });

    // --- builds and releases --------------------------------------------------------------
    const buildView = (app: App, r: Release) => ({
      app: app.metadata.name,
      created: deisTime(r.metadata.creationTimestamp),
      dockerfile: "",
      image: r.spec.image,
      owner: r.spec.author ?? ownerOf(app),
      procfile: Object.fromEntries(r.spec.processes.filter((x) => x.command?.length).map((x) => [x.name, (x.command ?? []).slice(-1)[0] ?? ""])),
      sha: "",
      updated: deisTime(r.metadata.creationTimestamp),
      uuid: r.metadata.uid,
    });
    s.get<P<"app">>("/apps/:app/builds", async (req) => {
      const app = load(who(req), req.params.app);
      const builds = apps.releases(app).filter((r) => !r.spec.image.startsWith("registry.k8s.io/pause")).reverse();
      return page(builds.map((r) => buildView(app, r)), req.query as Record<string, string>, req.url);
    });
    s.post<P<"app">>("/apps/:app/builds", async (req, reply) => {
      const p = who(req);
      const app = load(p, req.params.app);
      const b = body(req);
      const image = need(b, "image");
      const procfile = (b.procfile ?? {}) as Record<string, unknown>;
      if (typeof procfile !== "object" || Array.isArray(procfile)) throw badRequest("procfile", { procfile: ["Must be an object of process types to commands."] });
      for (const [type, cmd] of Object.entries(procfile)) {
        if (!NAME.test(type) || typeof cmd !== "string") throw badRequest("procfile", { procfile: [`Invalid process type or command: ${type}`] });
      }
      const fromProcfile = Object.entries(procfile as Record<string, string>).map(([name, cmd]) => ({
        name,
        command: ["sh", "-c", cmd],
        replicas: app.spec.processes.find((x) => x.name === name)?.replicas ?? (name === "web" ? 1 : 0),
        ...(name === "web" ? { ports: [{ port: 5000 }] } : {}),
      }));
      const base = fromProcfile.length ? fromProcfile : app.spec.processes;
      const processes = base.every((x) => (x.replicas ?? 1) === 0) ? base.map((x, i) => (i === 0 ? { ...x, replicas: 1 } : x)) : base;
      const before = app.status?.currentReleaseVersion ?? 0;
      const updated = await apps.patch(app, { image, processes }, actor(p));
      const version = await releaseAfter(updated, before);
      const rel = apps.releases(updated).find((r) => r.spec.version === version);
      return reply.code(201).header("X-Deis-Release", String(version)).send(rel ? buildView(updated, rel) : { app: app.metadata.name, image });
    });
    s.get<P<"app">>("/apps/:app/releases", async (req) => {
      const app = load(who(req), req.params.app);
      return page(apps.releases(app).reverse().map((r) => releaseView(app, r)), req.query as Record<string, string>, req.url);
    });
    s.get<P<"app" | "version">>("/apps/:app/releases/:version", async (req) => {
      const app = load(who(req), req.params.app);
      const v = Number(req.params.version.replace(/^v/, ""));
      const r = apps.releases(app).find((x) => x.spec.version === v);
      if (!r) throw notFound("Not found.");
      return releaseView(app, r);
    });
    s.post<P<"app">>("/apps/:app/releases/rollback", async (req, reply) => {
      const p = who(req);
      const app = load(p, req.params.app);
      const releases = apps.releases(app);
      const current = app.status?.currentReleaseVersion ?? releases.at(-1)?.spec.version ?? 1;
      const raw = body(req).version;
      const wanted = raw === undefined ? current - 1 : Number(raw);
      if (!Number.isInteger(wanted) || wanted < 1) throw badRequest("version", { version: ["version cannot be below 1"] });
      const target = releases.find((r) => r.spec.version === wanted);
      if (!target) throw notFound(`Release v${wanted} not found.`);
      const updated = await apps.patch(app, await apps.rollbackPatch(app, target), actor(p));
      const version = await releaseAfter(updated, current);
      return reply.code(201).send({ version });
    });

    // --- keys ---------------------------------------------------------------------------
    const keyView = (u: User, k: { id: string; publicKey: string }) => ({ created: deisTime(u.metadata.creationTimestamp), id: k.id, owner: u.spec.username ?? u.spec.email, public: k.publicKey, updated: deisTime(u.metadata.creationTimestamp), uuid: `${u.metadata.uid}-${k.id}` });
    const me = (p: Principal): User => {
      if (!p.user) throw forbidden();
      return identity.userByEmail(p.user.spec.email) ?? p.user;
    };
    s.get("/keys", async (req) => {
      const u = me(who(req));
      return page((u.spec.sshKeys ?? []).map((k) => keyView(u, k)), req.query as Record<string, string>, req.url);
    });
    s.post("/keys", async (req, reply) => {
      const u = me(who(req));
      const b = body(req);
      const id = need(b, "id");
      const pub = need(b, "public");
      if (!isSshPublicKey(pub)) throw badRequest("public", { public: ["Key contains invalid base64 chars or is not an SSH public key"] });
      if ((u.spec.sshKeys ?? []).some((k) => k.id === id || k.publicKey === pub)) throw badRequest("id", { id: ["Key with this Id already exists."] });
      const keys = [...(u.spec.sshKeys ?? []), { id, publicKey: pub }];
      await identity.write(BerthTypes.User, "key", () => client.mergePatch<User>(BerthTypes.User, undefined, u.metadata.name ?? "", { spec: { sshKeys: keys } }));
      return reply.code(201).send(keyView(u, { id, publicKey: pub }));
    });
    s.delete<P<"key">>("/keys/:key", async (req, reply) => {
      const u = me(who(req));
      if (!(u.spec.sshKeys ?? []).some((k) => k.id === req.params.key)) throw notFound("Not found.");
      const keys = (u.spec.sshKeys ?? []).filter((k) => k.id !== req.params.key);
      await identity.write(BerthTypes.User, "key", () => client.mergePatch<User>(BerthTypes.User, undefined, u.metadata.name ?? "", { spec: { sshKeys: keys } }));
      return reply.code(204).send();
    });

    // --- permissions ----------------------------------------------------------------------
    const grantees = (app: App) => (app.spec.teams ?? []).filter((t) => t.startsWith("user-")).map((t) => t.slice("user-".length));
    s.get<P<"app">>("/apps/:app/perms", async (req) => ({ users: grantees(load(who(req), req.params.app)) }));
    s.post<P<"app">>("/apps/:app/perms", async (req, reply) => {
      const p = who(req);
      const app = load(p, req.params.app);
      if (!p.admin && ownerOf(app) !== username(p)) throw forbidden("Only the app's owner or an administrator can share it.");
      const name = need(body(req), "username");
      if (!identity.userByName(name)) throw notFound("User not found.");
      await identity.ensureTeam(personalTeam(name));
      await apps.patch(app, { teams: [...new Set([...(app.spec.teams ?? []), personalTeam(name)])] }, actor(p));
      return reply.code(201).send();
    });
    const revoke = async (req: FastifyRequest<P<"app" | "username">>, reply: FastifyReply) => {
      const p = who(req);
      const app = load(p, req.params.app);
      if (!p.admin && ownerOf(app) !== username(p)) throw forbidden("Only the app's owner or an administrator can unshare it.");
      if (!grantees(app).includes(req.params.username)) throw notFound("Not found.");
      await apps.patch(app, { teams: (app.spec.teams ?? []).filter((t) => t !== personalTeam(req.params.username)) }, actor(p));
      return reply.code(204).send();
    };
    // Deis documents POST; its own client sends DELETE: both work.
    s.post<P<"app" | "username">>("/apps/:app/perms/:username", revoke);
    s.delete<P<"app" | "username">>("/apps/:app/perms/:username", revoke);
    s.get("/admin/perms", async (req) => {
      requireAdmin(who(req));
      return page(identity.users().filter((u) => u.spec.admin).map((u) => ({ username: u.spec.username ?? u.spec.email, is_superuser: true })), req.query as Record<string, string>, req.url);
    });
    s.post("/admin/perms", async (req, reply) => {
      requireAdmin(who(req));
      const u = identity.userByName(need(body(req), "username"));
      if (!u) throw notFound("User not found.");
      await identity.write(BerthTypes.User, "user", () => client.mergePatch<User>(BerthTypes.User, undefined, u.metadata.name ?? "", { spec: { admin: true } }));
      return reply.code(201).send();
    });
  },
};

/** An OpenSSH public key line whose base64 blob is well formed and names the same key type. */
export function isSshPublicKey(line: string): boolean {
  if (!SSH_KEY.test(line)) return false;
  const [type, b64] = line.split(" ");
  const blob = Buffer.from(b64 ?? "", "base64");
  if (blob.length < 4 || blob.toString("base64") !== b64) return false;
  const len = blob.readUInt32BE(0);
  return len > 0 && 4 + len <= blob.length && blob.subarray(4, 4 + len).toString("latin1") === type;
}

/** Deis/Docker memory ("512M", "1G") as a Kubernetes quantity ("512Mi", "1Gi"). */
export function fromDeisMemory(v: string): string | undefined {
  const m = /^(\d+)([BKMG]?)$/i.exec(v.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? "").toUpperCase();
  return unit === "" || unit === "B" ? m[1] : `${m[1]}${unit}i`;
}
const toDeisMemory = (q: string) => q.replace(/([KMG])i$/, "$1");
/** Docker CPU shares (1024 = one core) to millicores, and back. */
export const fromShares = (shares: number) => `${Math.max(1, Math.round((shares * 1000) / 1024))}m`;
const toShares = (q: string) => Math.round(((q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000) * 1024) / 1000);

/** Deis limits (memory, cpu per process type) and tags (node labels) onto the App's spec; null unsets. */
function applyLimits(app: App, b: Record<string, unknown>): { processes: App["spec"]["processes"]; nodeSelector: Record<string, string | null> | undefined } {
  const obj = (k: string) => {
    const v = b[k];
    if (v === undefined || v === null) return {};
    if (typeof v !== "object" || Array.isArray(v)) throw badRequest(k, { [k]: ["Must be an object."] });
    return v as Record<string, unknown>;
  };
  const memory = obj("memory");
  const cpu = obj("cpu");
  const tags = obj("tags");
  for (const type of [...Object.keys(memory), ...Object.keys(cpu)]) {
    if (!app.spec.processes.some((x) => x.name === type)) throw badRequest(type, { detail: [`Container type ${type} does not exist in application`] });
  }
  const processes = app.spec.processes.map((x) => {
    const r = { ...x.resources };
    if (x.name in memory) {
      const v = memory[x.name];
      if (v === null) delete r.memory;
      else {
        const q = typeof v === "string" ? fromDeisMemory(v) : undefined;
        if (!q) throw badRequest("memory", { memory: [`Memory limit format: <number><unit>, where unit = B, K, M or G (got ${JSON.stringify(v)})`] });
        r.memory = q;
      }
    }
    if (x.name in cpu) {
      const v = cpu[x.name];
      if (v === null) delete r.cpu;
      else {
        const n = typeof v === "number" ? v : Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 1024 * 64) throw badRequest("cpu", { cpu: ["CPU shares must be a whole number between 1 and 65536 (1024 = one core)"] });
        r.cpu = fromShares(n);
      }
    }
    const { resources: _old, ...rest } = x;
    return Object.keys(r).length ? { ...rest, resources: r } : rest;
  });
  let nodeSelector: Record<string, string | null> | undefined;
  if (Object.keys(tags).length) {
    nodeSelector = {};
    for (const [k, v] of Object.entries(tags)) {
      if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k) || (v !== null && (typeof v !== "string" || !/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(v)))) {
        throw badRequest("tags", { tags: [`Invalid tag ${k}=${String(v)}: keys and values are Kubernetes label names and values`] });
      }
      nodeSelector[k] = v as string | null;
    }
  }
  return { processes, nodeSelector };
}

