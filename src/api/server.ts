// The Berth API server: one stateless HTTP process serving every PaaS dialect over the CRs.
// Each dialect is a Fastify plugin under its own prefixes, with its own error shape.
import type { ServerOptions as HttpsOptions } from "node:https";
import Fastify from "fastify";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import formbody from "@fastify/formbody";
import type { Logger } from "winston";
import { ApiError } from "./errors.ts";
import { observeRequest } from "./http-metrics.ts";
import type { Principal } from "./identity/principal.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set when the caller is known from elsewhere than a token (aggregated mode). */
    principal?: Principal;
  }
}

export interface Dialect<Deps> {
  /** Short name used in metrics and logs: "tsuru", "deis", ... */
  name: string;
  /** URL prefixes the dialect is served under ("" for the root). */
  prefixes: string[];
  /** Registers the dialect's routes on a scope already under one prefix. */
  routes(scope: FastifyInstance, deps: Deps): void;
  /** Renders an error in the dialect's own shape. */
  sendError(reply: FastifyReply, err: ApiError): void;
  /**
   * Takes a request before routing, whatever its path (Waiter's service requests, which are
   * proxied to an app): returns true after hijacking the reply, false to leave it to routing.
   */
  intercept?(req: FastifyRequest, reply: FastifyReply, deps: Deps): boolean;
}

export interface ServerOptions<Deps> {
  log: Logger;
  deps: Deps;
  dialects: Dialect<Deps>[];
  /** Upper bound for request bodies (bytes). */
  bodyLimit?: number;
  /** Maps a raw URL to the one routed (e.g. tsuru's versioned prefixes). */
  rewriteUrl?: (url: string) => string;
  /** Serve TLS (aggregated mode). */
  https?: HttpsOptions;
  /** Put in front of every dialect prefix (aggregated mode: "/apis/<group>/<version>"). */
  basePath?: string;
  /** Identifies the caller before routing (aggregated mode); throwing answers 401. */
  identify?: (req: FastifyRequest) => Principal;
  /** False until every cache the dialects read has synced: until then they answer 503. */
  ready?: () => boolean;
  /** Most simultaneous connections (default 4096). */
  maxConnections?: number;
}

/** JSON bodies nested deeper than this are refused (400) before any handler walks them. */
export const MAX_JSON_DEPTH = 64;

/** How deeply v nests arrays and objects (iterative: a hostile body cannot overflow the stack). */
export function jsonDepth(v: unknown, limit = Infinity): number {
  let max = 0;
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== "object") continue;
    if (d + 1 > max) max = d + 1;
    if (max > limit) return max;
    for (const child of Object.values(x as object)) stack.push([child, d + 1]);
  }
  return max;
}

const pathOnly = (url: string) => url.split("?")[0] ?? "";

/** Turns anything thrown by a handler or by Fastify itself into an ApiError (never a bare 500). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const fe = err as Partial<FastifyError>;
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(fe.statusCode, fe.message ?? "bad request");
  }
  return new ApiError(500, "internal error");
}

export function buildServer<Deps>(opts: ServerOptions<Deps>): FastifyInstance {
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    logger: false,
    bodyLimit: opts.bodyLimit ?? 1 << 20,
    // tsuru and Deis paths are matched with and without a trailing slash.
    // Path parameters up to 200 characters: Waiter's instance ids are a 64-digit service-id, ".", and a pod name.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 200 },
    return503OnClosing: true,
    // Slow or stalled clients do not hold connections forever: the whole request (headers and
    // body) must arrive within requestTimeout; idle keep-alive connections close after 65 s.
    // Responses may stream for long (deploy output, log follow): they are not bounded here.
    requestTimeout: 120_000,
    keepAliveTimeout: 65_000,
    rewriteUrl: (req: { url?: string }) => (opts.rewriteUrl ? opts.rewriteUrl(req.url ?? "/") : (req.url ?? "/")),
    // Errors the router raises before any route (a malformed URL, a path parameter over
    // maxParamLength) are answered in the shape of the dialect whose prefix the path is under.
    frameworkErrors: (err, req, reply) => {
      const path = pathOnly(req.url);
      let best: Dialect<Deps> | undefined;
      let bestLength = -1;
      for (const d of opts.dialects) {
        for (const p of d.prefixes) {
          const full = `${opts.basePath ?? ""}${p}`;
          if ((path === full || path.startsWith(`${full}/`)) && full.length > bestLength) [best, bestLength] = [d, full.length];
        }
      }
      const apiErr = toApiError(err);
      const r = reply as unknown as FastifyReply;
      if (best) best.sendError(r, apiErr);
      else void r.code(apiErr.status).send({ error: apiErr.message });
    },
  });
  app.register(formbody);
  // Deis' CLI sends JSON; bodies that are empty with a JSON content type are allowed.
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === "") return done(null, {});
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return done(new ApiError(400, "the request body is not valid JSON"), undefined);
    }
    if (jsonDepth(parsed, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return done(new ApiError(400, `the request body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    done(null, parsed);
  });
  app.server.maxConnections = opts.maxConnections ?? 4096;

  app.addHook("onResponse", async (req: FastifyRequest, reply: FastifyReply) => {
    const route = req.routeOptions.url ?? "unmatched";
    const dialect = (req.routeOptions.config as { dialect?: string } | undefined)?.dialect ?? "none";
    const seconds = reply.elapsedTime / 1000;
    observeRequest(dialect, req.method, route, reply.statusCode, seconds);
    opts.log.info("request", {
      method: req.method,
      url: pathOnly(req.url),
      route,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      dialect,
    });
  });

  // Requests a dialect takes whatever their path (not under a base path: aggregated mode serves
  // the dialects' own endpoints only). The body is still unread here, so it can be streamed on.
  const interceptors = opts.basePath ? [] : opts.dialects.filter((d) => d.intercept);
  if (interceptors.length) {
    app.addHook("onRequest", (req, reply, done) => {
      for (const d of interceptors) if (d.intercept?.(req, reply, opts.deps)) return;
      done();
    });
  }

  app.get("/healthz", async () => "ok");
  app.get("/readyz", async (_req, reply) => (!opts.ready || opts.ready() ? "ok" : reply.code(503).send("caches not synced")));

  const notFoundPrefixes = new Set<string>();
  for (const dialect of opts.dialects) {
    for (const prefix of dialect.prefixes) {
      app.register(
        async (scope) => {
          scope.addHook("onRoute", (route) => {
            route.config = { ...(route.config as object), dialect: dialect.name };
          });
          if (opts.ready) {
            const ready = opts.ready;
            scope.addHook("onRequest", async () => {
              if (!ready()) throw new ApiError(503, "Berth is starting and has not read the cluster's state yet; retry in a moment.");
            });
          }
          if (opts.identify) {
            const identify = opts.identify;
            scope.addHook("onRequest", async (req) => {
              req.principal = identify(req);
            });
          }
          scope.setErrorHandler((err, req, reply) => {
            const apiErr = toApiError(err);
            // Only the path is logged: query strings can carry credentials.
            if (apiErr.status === 500) opts.log.error("request failed", { method: req.method, url: pathOnly(req.url), error: String(err), stack: (err as Error).stack });
            // The cluster unreachable or busy: expected during outages, no stack needed.
            else if (apiErr.status > 500) opts.log.warn("request failed", { method: req.method, url: pathOnly(req.url), status: apiErr.status, error: apiErr.message });
            if (reply.raw.headersSent) {
              reply.raw.end();
              return;
            }
            dialect.sendError(reply, apiErr);
          });
          // One not-found handler per prefix (Fastify allows no second): where two dialects share
          // one (Waiter and the cluster API at the root), the first registered answers.
          if (!notFoundPrefixes.has(prefix)) {
            notFoundPrefixes.add(prefix);
            scope.setNotFoundHandler((req, reply) => {
              // The path as the client sent it (originalUrl), not as rewritten for routing: no "/tsuru/..." leaks out.
              dialect.sendError(reply, new ApiError(404, `no such endpoint: ${req.method} ${pathOnly(req.originalUrl ?? req.url)}`));
            });
          }
          dialect.routes(scope, opts.deps);
        },
        { prefix: `${opts.basePath ?? ""}${prefix}` },
      );
    }
  }
  return app;
}
