// Waiter's service requests and the endpoints that start services: a request carrying
// x-waiter-token (or whose Host names a token) that is not for one of Waiter's own endpoints
// resolves the token into a service description, gets the App that runs it (created on first
// use), starts it if nothing runs, waits for a ready instance (bounded by
// x-waiter-queue-timeout), and is proxied to it; the answer carries x-waiter-service-id.
// GET /service-id creates the service without starting it; GET /waiter-ping starts it and
// runs one health check. Following twosigma/waiter: waiter/src/waiter/core.clj
// (waiter-request?-factory: which requests are Waiter's own), handler.clj (ping-service:
// {"ping-response", "service-description", "service-state"}), process_request.clj.
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { ApiError, forbidden } from "../errors.ts";
import { toApiError } from "../server.ts";
import type { Principal } from "../identity/principal.ts";
import type { App } from "../../model/kinds.ts";
import type { Endpoint } from "../../router/endpoints.ts";
import { normalizeHost } from "../../router/hosts.ts";
import { waiterCaller } from "./auth.ts";
import { waiterError } from "./errors.ts";
import { INVALID_DESCRIPTION, headerParameters, serviceAppName, serviceDescription } from "./service-description.ts";
import type { SourceToken } from "./service-runtime.ts";
import { WaiterServices } from "./service-runtime.ts";
import { currentRelease, releasePods, serviceStatus, sourceTokens, storedDescription } from "./services.ts";
import type { Pod } from "./services.ts";
import type { TokenData } from "./token-data.ts";
import { tokenData, tokenHash } from "./token-data.ts";

/** core.clj waiter-request?: paths that are always Waiter's own, and prefixes of Waiter's own paths. */
const OWN_PATHS = new Set(["/app-name", "/service-id", "/token", "/waiter-ping"]);
const OWN_PREFIXES = ["/waiter-async/complete/", "/waiter-async/result/", "/waiter-async/status/", "/waiter-auth/", "/waiter-consent", "/waiter-interstitial"];
/** Host names that are never tokens (core.clj adds them to the valid Waiter host names). */
const WAITER_HOSTS = new Set(["localhost", "127.0.0.1"]);
/** The x-waiter-token prefix that names a service by id instead of a token. */
const SERVICE_ID_TOKEN = "^SERVICE-ID#";

/** process_request.clj: x-waiter-queue-timeout defaults to 300000 ms; x-waiter-timeout (to the backend's answer) to 900000 ms. */
const DEFAULT_QUEUE_TIMEOUT_MS = 300_000;
const DEFAULT_TIMEOUT_MS = 900_000;

const runtimes = new WeakMap<ApiDeps, WaiterServices>();
/** The services runtime of these deps (one per API server process). */
export function waiterServices(deps: ApiDeps): WaiterServices {
  let s = runtimes.get(deps);
  if (!s) runtimes.set(deps, (s = new WaiterServices(deps)));
  return s;
}

const headerOf = (req: { headers: IncomingMessage["headers"] }, k: string): string | undefined => {
  const v = req.headers[k];
  return (Array.isArray(v) ? v[0] : v) || undefined;
};

const millis = (v: string | undefined, dflt: number): number => {
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n > 0 ? n : dflt;
};

/** The token a service request names: x-waiter-token, else a Host naming a token. */
function requestToken(deps: ApiDeps, req: FastifyRequest): string | undefined {
  const header = headerOf(req, "x-waiter-token");
  if (header) return header;
  const host = normalizeHost(headerOf(req, "host"));
  if (!host || WAITER_HOSTS.has(host)) return undefined;
  const t = deps.waiterTokens.get(host);
  return t && !t.spec.deleted ? host : undefined;
}

/** Whether a request is for a Waiter service rather than for Berth's own endpoints. */
export function isServiceRequest(deps: ApiDeps, req: FastifyRequest): boolean {
  const path = (req.originalUrl ?? req.url).split("?")[0] ?? "";
  if (OWN_PATHS.has(path) || OWN_PREFIXES.some((p) => path.startsWith(p))) return false;
  if (headerOf(req, "x-waiter-token")) return true;
  return deps.ready() && requestToken(deps, req) !== undefined;
}

interface Resolved {
  p: Principal;
  desc: TokenData;
  sources: SourceToken[];
}

/** The caller and the service description the request asks for (401/400/403 in Waiter's words). */
async function resolve(deps: ApiDeps, req: FastifyRequest): Promise<Resolved> {
  if (!deps.ready()) throw new ApiError(503, "Berth is starting and has not read the cluster's state yet; retry in a moment.");
  const p = await waiterCaller(deps, req);
  const name = requestToken(deps, req);
  let resolved: Omit<Resolved, "p">;
  if (name?.startsWith(SERVICE_ID_TOKEN)) {
    // The CLI's `ping --service-id` names a service, not a token (waiter-client action.py ping_service_on_cluster).
    const app = deps.apps.app(serviceAppName(name.slice(SERVICE_ID_TOKEN.length)));
    const stored = app && storedDescription(app);
    if (!app || !stored) throw new ApiError(400, INVALID_DESCRIPTION, { friendly: [`No service with id ${name.slice(SERVICE_ID_TOKEN.length)}`] });
    resolved = { desc: stored, sources: sourceTokens(app)[0] ?? [] };
  } else {
    const found = name ? deps.waiterTokens.get(name) : undefined;
    const token = found && !found.spec.deleted ? found : undefined;
    const version = token ? tokenHash(tokenData(token.spec)) : undefined;
    resolved = { desc: serviceDescription(token?.spec.description, req.headers, p.name), sources: token && name && version ? [{ token: name, version }] : [] };
  }
  // process_request.clj: a run-as-user given on the fly (not by a token its owner wrote) must be the caller's own.
  const runAs = headerParameters(req.headers)["run-as-user"];
  if (runAs !== undefined && runAs !== "*" && runAs !== p.name && !p.admin) throw forbidden("Authenticated user cannot run service");
  const permitted = resolved.desc["permitted-user"];
  if (permitted !== "*" && permitted !== p.name && !p.admin) throw forbidden("This user isn't allowed to invoke this service");
  return { p, ...resolved };
}

function sendRaw(res: ServerResponse, req: FastifyRequest, err: ApiError): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify(waiterError(req, err));
  res.writeHead(err.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

/** The client's abort signal: the response closed before it was sent. */
function clientGone(res: ServerResponse): AbortSignal {
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  return abort.signal;
}

async function serveServiceRequest(deps: ApiDeps, req: FastifyRequest, res: ServerResponse): Promise<void> {
  try {
    const { p, desc, sources } = await resolve(deps, req);
    const services = waiterServices(deps);
    const { app, serviceId } = await services.ensure(desc, sources, p, "Running");
    services.startIdleSweep();
    res.setHeader("x-waiter-service-id", serviceId);
    const endpoints = await services.start(app, millis(headerOf(req, "x-waiter-queue-timeout"), DEFAULT_QUEUE_TIMEOUT_MS), clientGone(res));
    services.recordRequest(app);
    // Berth's credentials stay here; the service learns who called (as Waiter tells its backends).
    const raw = req.raw;
    delete raw.headers.authorization;
    raw.headers["x-waiter-auth-principal"] = p.name;
    raw.headers["x-waiter-authenticated-principal"] = p.name;
    raw.url = req.originalUrl ?? raw.url;
    services.proxy(raw, res, app, endpoints, millis(headerOf(req, "x-waiter-timeout"), DEFAULT_TIMEOUT_MS));
  } catch (e) {
    const err = toApiError(e);
    if (err.status === 499) return void res.destroy();
    sendRaw(res, req, err);
  }
}

/** The Dialect.intercept of Waiter: takes service requests before routing. */
export function interceptServiceRequest(req: FastifyRequest, reply: FastifyReply, deps: ApiDeps): boolean {
  if (!isServiceRequest(deps, req)) return false;
  reply.hijack();
  void serveServiceRequest(deps, req, reply.raw);
  return true;
}

/** One GET of the health check URL on an instance (handler.clj make-health-check-request). */
function healthCheck(ep: Endpoint, path: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((done) => {
    const r = http.get({ host: ep.address, port: ep.port, path, timeout: timeoutMs, headers: { "user-agent": "waiter-ping" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ body: Buffer.concat(chunks).toString("utf8"), headers: res.headers, result: "received-response", status: res.statusCode ?? 0 }));
    });
    r.on("timeout", () => {
      r.destroy();
      done({ result: "timed-out" });
    });
    r.on("error", (e) => done({ body: JSON.stringify({ "waiter-error": { message: `Connection error while sending request to instance: ${e.message}`, status: 502 } }), headers: {}, result: "received-response", status: 502 }));
  });
}

/** service-state of a ping: handler.clj extract-service-state ({service-id, exists?, healthy?, status}). */
function serviceState(deps: ApiDeps, app: App, serviceId: string): Record<string, unknown> {
  const cur = deps.apps.apps().find((a) => a.metadata.name === app.metadata.name && a.metadata.namespace === app.metadata.namespace) ?? app;
  const release = currentRelease(cur, deps.apps.releases(cur));
  const pods = release ? releasePods(deps.apps.pods(cur) as Pod[], release) : [];
  const status = release ? serviceStatus({ app: cur, release, current: true, pods }) : "Inactive";
  return { "service-id": serviceId, "exists?": true, "healthy?": waiterServices(deps).endpoints(cur).length > 0, status };
}

export function serviceRequestRoutes(scope: FastifyInstance, deps: ApiDeps): void {
  scope.addHook("onClose", async () => runtimes.get(deps)?.close());

  // handler.clj service-id-handler: the service-id as plain text; the service is stored, not started.
  scope.get("/service-id", async (req, reply) => {
    const { p, desc, sources } = await resolve(deps, req);
    const { serviceId } = await waiterServices(deps).ensure(desc, sources, p, "Sleeping");
    return reply.type("text/plain").send(serviceId);
  });

  // handler.clj ping-service: starts the service if needed, then one health check on an instance.
  scope.get("/waiter-ping", async (req, reply) => {
    const { p, desc, sources } = await resolve(deps, req);
    const services = waiterServices(deps);
    const { app, serviceId } = await services.ensure(desc, sources, p, "Running");
    services.startIdleSweep();
    const timeoutMs = millis(headerOf(req, "x-waiter-timeout"), DEFAULT_QUEUE_TIMEOUT_MS);
    let ping: Record<string, unknown>;
    try {
      const endpoints = await services.start(app, millis(headerOf(req, "x-waiter-queue-timeout"), DEFAULT_QUEUE_TIMEOUT_MS), clientGone(reply.raw));
      services.recordRequest(app);
      ping = await healthCheck(endpoints[0]!, String(desc["health-check-url"] ?? "/status"), timeoutMs);
    } catch (e) {
      // The start failed: the ping received Waiter's own error answer (the CLI prints its message).
      const err = toApiError(e);
      ping = { body: JSON.stringify(waiterError(req, err)), headers: { "content-type": "application/json" }, result: "received-response", status: err.status };
    }
    reply.header("x-waiter-service-id", serviceId);
    return { "ping-response": ping, "service-description": desc, "service-state": serviceState(deps, app, serviceId) };
  });
}
