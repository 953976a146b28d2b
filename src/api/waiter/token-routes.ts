// Waiter's /token and /tokens, as twosigma/waiter:waiter/src/waiter/token.clj answers them
// (handle-get-token-request, handle-post-token-request, handle-delete-token-request,
// handle-list-tokens-request), over WaiterToken CRs.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { ApiError, badRequest, forbidden, notFound } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import type { WaiterToken, WaiterTokenSpec } from "../../model/kinds.ts";
import type { TokenData } from "./token-data.ts";
import { SERVICE_PARAMETER_KEYS, TOKEN_NAME, USER_METADATA_KEYS, ifMatchHolds, pick, sameData, tokenData, tokenHash, unsupportedKeys, validateParameters, validateUserMetadata, withIsoTimes } from "./token-data.ts";
import type { WaiterTokenStore } from "./token-store.ts";
import { waiterCaller } from "./auth.ts";

/** The cluster name Waiter reports as a token's root and cluster. */
export const CLUSTER_NAME = process.env.BERTH_WAITER_CLUSTER ?? "berth";

type Query = Record<string, string | string[] | undefined>;
const query = (req: FastifyRequest) => (req.query ?? {}) as Query;
const values = (q: Query, k: string): string[] => {
  const v = q[k];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};
/** utils/param-contains?: include=metadata or include=deleted, repeated or not. */
const includes = (req: FastifyRequest, what: string) => values(query(req), "include").includes(what);
const flag = (req: FastifyRequest, k: string) => values(query(req), k)[0] === "true";

/** The token a request names: ?token= or the x-waiter-token header. */
function tokenOf(req: FastifyRequest): string | undefined {
  const q = values(query(req), "token")[0];
  if (q) return q;
  const h = req.headers["x-waiter-token"];
  return (Array.isArray(h) ? h[0] : h) || undefined;
}

/** The If-Match header, without the quotes an HTTP client may put around it ("" is an empty one). */
function ifMatch(req: FastifyRequest): string | undefined {
  const h = req.headers["if-match"];
  if (h === undefined) return undefined;
  const v = (Array.isArray(h) ? h[0] : h) ?? "";
  return v.replace(/^"(.*)"$/, "$1");
}

/** authz/manage-token?: the owner, or an administrator. */
const mayManage = (p: Principal, owner: string | undefined) => p.admin || (owner !== undefined && owner === p.name);
/** authz/run-as?: oneself, or anyone for an administrator. */
const mayRunAs = (p: Principal, user: string) => p.admin || user === p.name;

const live = (t: WaiterToken | undefined): WaiterToken | undefined => (t && !t.spec.deleted ? t : undefined);

/** Parameters and user metadata, as GET answers without include=metadata. */
function visible(spec: WaiterTokenSpec): TokenData {
  return { ...pick(spec.description, SERVICE_PARAMETER_KEYS), ...pick(spec.description, USER_METADATA_KEYS), owner: spec.owner };
}

function stale(): ApiError {
  return new ApiError(412, "Cannot modify stale token");
}

export function tokenRoutes(scope: FastifyInstance, deps: ApiDeps): void {
  // Read at request time: route registration (docs generation) needs no store.
  const store = { get: (t: string) => deps.waiterTokens.get(t), list: () => deps.waiterTokens.list(), write: (...a: Parameters<WaiterTokenStore["write"]>) => deps.waiterTokens.write(...a), hardDelete: (...a: Parameters<WaiterTokenStore["hardDelete"]>) => deps.waiterTokens.hardDelete(...a) };
  scope.get("/token", async (req, reply) => {
    await waiterCaller(deps, req);
    const name = tokenOf(req);
    const t = name ? store.get(name) : undefined;
    const found = t && (!t.spec.deleted || includes(req, "deleted")) ? t : undefined;
    if (!found || !name) throw notFound(`Couldn't find token ${name ?? ""}`);
    const data = tokenData(found.spec);
    const etag = tokenHash(data);
    if (etag) reply.header("etag", etag);
    if (!includes(req, "metadata")) return reply.send(visible(found.spec));
    const body: TokenData = { ...visible(found.spec), ...withIsoTimes(data), root: found.spec.root ?? CLUSTER_NAME, previous: withIsoTimes(found.spec.previous ?? {}) };
    return reply.send(body);
  });

  scope.post("/token", async (req, reply) => {
    const p = await waiterCaller(deps, req);
    const body = req.body;
    if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("Must provide the token");
    const data = body as TokenData;
    // The CLI names the token in ?token= (waiter-client: waiter/token_post.py create_or_update).
    const token = typeof data.token === "string" ? data.token : (values(query(req), "token")[0] ?? "");
    if (token.trim() === "") throw badRequest("Must provide the token");
    if (!TOKEN_NAME.test(token)) throw badRequest("Token must match pattern");
    const params = pick(data, SERVICE_PARAMETER_KEYS);
    const invalid = validateParameters(params);
    if (invalid) throw badRequest(invalid);
    const userMeta = pick(data, USER_METADATA_KEYS);
    const badMeta = validateUserMetadata(userMeta);
    if (badMeta) throw badRequest(badMeta);
    const unknown = unsupportedKeys(data);
    if (unknown) throw badRequest(unknown);
    const version = ifMatch(req);
    const existing = live(store.get(token));
    const mode = values(query(req), "update-mode")[0];
    if (mode === "admin") {
      if (existing && version === undefined) throw badRequest("Must specify if-match header for admin mode token updates");
      if (!p.admin) throw forbidden("Cannot administer token");
    } else if (mode === undefined) {
      const runAs = params["run-as-user"];
      if (typeof runAs === "string" && runAs !== "*" && !mayRunAs(p, runAs)) throw forbidden("Cannot run as user");
      const newOwner = typeof data.owner === "string" ? data.owner : undefined;
      if (existing) {
        if (!mayManage(p, existing.spec.owner)) throw forbidden("Cannot change owner of token");
      } else if (!mayRunAs(p, newOwner ?? p.name)) throw forbidden("Cannot create token as user");
      for (const k of ["last-update-time", "last-update-user", "root", "previous"]) {
        if (k in data) throw badRequest(`Cannot modify ${k} token metadata`);
      }
    } else {
      throw badRequest("Invalid update-mode");
    }
    const owner = (typeof data.owner === "string" ? data.owner : undefined) ?? existing?.spec.owner ?? p.name;
    const description = { ...params, ...userMeta };
    delete description.owner;

    // Nothing to change: Waiter answers so without writing (and without checking If-Match).
    if (mode !== "admin" && existing && sameData(visible(existing.spec), { ...description, owner })) {
      const etag = tokenHash(tokenData(existing.spec));
      if (etag) reply.header("etag", etag);
      return reply.send({ message: `No changes detected for ${token}`, "service-description": pick(existing.spec.description, SERVICE_PARAMETER_KEYS) });
    }

    let created = true;
    const written = await store.write(token, (current) => {
      const currentLive = current && !current.spec.deleted ? current : undefined;
      if (!ifMatchHolds(version, currentLive ? tokenData(currentLive.spec) : undefined)) throw stale();
      // Another writer may have created or taken the token since the checks above.
      if (mode !== "admin" && currentLive && !mayManage(p, currentLive.spec.owner)) throw forbidden("Cannot change owner of token");
      created = !currentLive;
      return {
        token,
        owner,
        description,
        lastUpdateTime: new Date().toISOString(),
        lastUpdateUser: p.name,
        root: currentLive?.spec.root ?? CLUSTER_NAME,
        cluster: CLUSTER_NAME,
        previous: currentLive ? tokenData(currentLive.spec) : {},
      };
    });
    const etag = tokenHash(tokenData(written.spec));
    if (etag) reply.header("etag", etag);
    return reply.send({ message: `Successfully ${created ? "created" : "updated"} ${token}`, "service-description": params });
  });

  scope.delete("/token", async (req, reply) => {
    const p = await waiterCaller(deps, req);
    const token = tokenOf(req);
    if (!token) throw badRequest("Couldn't find token in request");
    const hard = flag(req, "hard-delete");
    const version = ifMatch(req);
    const cached = store.get(token);
    const target = hard ? cached : live(cached);
    if (!target) throw notFound(`Token ${token} does not exist`);
    if (hard) {
      if (!target.spec.deleted && version === undefined) throw badRequest("Must specify if-match header for token hard deletes");
      if (!mayManage(p, target.spec.owner)) throw forbidden("Cannot hard-delete token");
      await store.hardDelete(token, (current) => {
        if (!current) throw notFound(`Token ${token} does not exist`);
        if (!ifMatchHolds(version, tokenData(current.spec))) throw stale();
      });
    } else {
      if (!mayManage(p, target.spec.owner)) throw forbidden("User not allowed to delete token");
      await store.write(token, (current) => {
        if (!current || current.spec.deleted) throw notFound(`Token ${token} does not exist`);
        if (!ifMatchHolds(version, tokenData(current.spec))) throw stale();
        return { ...current.spec, deleted: true, lastUpdateTime: new Date().toISOString(), lastUpdateUser: p.name, previous: tokenData(current.spec) };
      });
    }
    if (version !== undefined) reply.header("etag", version);
    return reply.send({ delete: token, "hard-delete": hard, success: true });
  });

  scope.get("/tokens", async (req, reply: FastifyReply) => {
    await waiterCaller(deps, req);
    const owner = values(query(req), "owner")[0];
    const deleted = includes(req, "deleted");
    const metadata = includes(req, "metadata");
    const entries = store
      .list()
      .filter((t) => (owner === undefined || t.spec.owner === owner) && (deleted || !t.spec.deleted))
      .sort((a, b) => (a.spec.token < b.spec.token ? -1 : a.spec.token > b.spec.token ? 1 : 0))
      .map((t) => {
        const entry: TokenData = { owner: t.spec.owner, token: t.spec.token };
        if (!metadata) return entry;
        const data = tokenData(t.spec);
        return {
          ...entry,
          deleted: t.spec.deleted === true,
          etag: tokenHash(data) ?? null,
          "last-update-time": t.spec.lastUpdateTime ? new Date(Date.parse(t.spec.lastUpdateTime)).toISOString() : null,
          maintenance: "maintenance" in t.spec.description,
        };
      });
    return reply.send(entries);
  });
}
