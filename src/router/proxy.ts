// The request path: Host -> app -> a ready endpoint (round robin) -> the app, bodies streamed
// both ways. A request goes to another endpoint only when the connection could not be opened
// (or a pooled keep-alive connection turned out dead before a body-less request was answered):
// once an app may have seen a request, it is never sent twice.
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log.ts";
import type { Activator } from "./activator.ts";
import { answerUnavailable } from "./activator.ts";
import type { AppActivity } from "./activity.ts";
import type { Endpoint } from "./endpoints.ts";
import { pickEndpoint } from "./endpoints.ts";
import { endToEndHeaders, upstreamRequestHeaders } from "./headers.ts";
import { normalizeHost } from "./hosts.ts";
import { routerMetrics } from "./metrics.ts";
import type { Route, RouteSource } from "./routing-table.ts";
import type { UpstreamPool } from "./upstreams.ts";

export interface ProxyOptions {
  routes: RouteSource;
  upstreams: UpstreamPool;
  appsDomain: string;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  /** Further endpoints tried after connect errors. */
  retries: number;
  activator?: Activator;
  activity?: AppActivity;
  /** One line per request when set. */
  accessLog?: Logger;
}

/** One client request on its way through the router. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  start: number;
  host?: string;
  route?: Route;
  upstream?: Endpoint;
  upstreamRequest?: http.ClientRequest;
  tried: Set<string>;
  /** This request's round-robin position: retries move on from it, not from other requests'. */
  cursor?: number;
  timer?: NodeJS.Timeout;
  /** The router answered (an error) or gave up: late upstream events are ignored. */
  settled: boolean;
  abort?: AbortController;
}

const CONNECT_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ETIMEDOUT", "EADDRNOTAVAIL", "ECONNRESET", "EPIPE"]);

class ConnectTimeout extends Error {
  readonly code = "ETIMEDOUT";
}

const hasBody = (req: IncomingMessage): boolean =>
  req.headers["transfer-encoding"] !== undefined || (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");

const seconds = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

export function proxyHandler(o: ProxyOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const activator = o.activator ?? answerUnavailable;

  function reply(x: Exchange, code: number, reason: string, body: string): void {
    x.settled = true;
    clearTimeout(x.timer);
    x.upstreamRequest?.destroy();
    if (x.res.headersSent) return void x.res.destroy();
    const text = `${body}\n`;
    x.res.writeHead(code, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text), "x-berth-router": reason }).end(text);
  }

  function finished(x: Exchange): void {
    clearTimeout(x.timer);
    x.abort?.abort();
    // A client that left is no upstream failure: nothing is retried or counted after this.
    x.settled = true;
    if (!x.res.writableFinished) x.upstreamRequest?.destroy();
    const code = x.res.headersSent ? x.res.statusCode : 499; // 499: the client went away first
    const ms = performance.now() - x.start;
    const labels = { namespace: x.route?.namespace ?? "", app: x.route?.app ?? "" };
    routerMetrics.requests.inc({ ...labels, code: String(code) });
    routerMetrics.duration.observe(labels, ms / 1000);
    if (x.route) o.activity?.end(x.route.key);
    o.accessLog?.info("request", {
      method: x.req.method,
      host: x.host ?? "",
      path: x.req.url,
      status: code,
      durationMs: Math.round(ms * 100) / 100,
      ...labels,
      upstream: x.upstream?.key ?? "",
      pod: x.upstream?.pod ?? "",
      attempts: x.tried.size,
      remote: x.req.socket.remoteAddress ?? "",
    });
  }

  function upstreamError(x: Exchange, reason: string): void {
    routerMetrics.upstreamErrors.inc({ namespace: x.route?.namespace ?? "", app: x.route?.app ?? "", reason });
  }

  function forward(x: Exchange, route: Route, endpoints: readonly Endpoint[]): void {
    x.cursor ??= route.nextCursor();
    const ep = pickEndpoint(endpoints, x.cursor, x.tried);
    if (!ep) return reply(x, 502, "no-endpoint-accepted", `app "${route.app}" (namespace ${route.namespace}): none of its ${x.tried.size} endpoint(s) accepted a connection`);
    x.tried.add(ep.key);
    x.upstream = ep;
    const { req } = x;
    const up = http.request({
      host: ep.address,
      port: ep.port,
      method: req.method,
      path: req.url,
      headers: upstreamRequestHeaders(req.headers, { remoteAddress: req.socket.remoteAddress ?? "", encrypted: "encrypted" in req.socket && req.socket.encrypted === true }),
      agent: o.upstreams.agentFor(ep),
      setHost: false,
    });
    x.upstreamRequest = up;
    let connected = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const send = () => {
      connected = true;
      if (hasBody(req)) req.pipe(up);
      else up.end();
    };
    up.once("socket", (socket) => {
      if (!socket.connecting) return send();
      connectTimer = setTimeout(() => up.destroy(new ConnectTimeout(`connect timeout after ${seconds(o.connectTimeoutMs)}`)), o.connectTimeoutMs);
      socket.once("connect", () => {
        clearTimeout(connectTimer);
        send();
      });
    });
    up.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (x.settled || x.upstreamRequest !== up) return;
      const stale = connected && up.reusedSocket && err.code === "ECONNRESET" && !hasBody(req);
      const connectError = !connected && CONNECT_ERRORS.has(err.code ?? "");
      if (connectError || stale) {
        upstreamError(x, stale ? "stale-connection" : "connect");
        if (stale) x.tried.delete(ep.key);
        if (x.tried.size <= o.retries || stale) {
          routerMetrics.retries.inc({ namespace: route.namespace, app: route.app });
          return forward(x, route, route.endpoints);
        }
        return reply(x, 502, "connect-failed", `app "${route.app}" (namespace ${route.namespace}): no connection to its endpoints after ${x.tried.size} attempt(s): ${err.message}`);
      }
      if (x.res.headersSent) {
        upstreamError(x, "reset");
        x.settled = true;
        return void x.res.destroy();
      }
      upstreamError(x, "reset");
      reply(x, 502, "upstream-reset", `app "${route.app}" (namespace ${route.namespace}) closed the connection without an answer: ${err.message}`);
    });
    up.once("response", (upRes) => {
      clearTimeout(x.timer);
      if (x.settled) return void upRes.resume();
      x.res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEndHeaders(upRes.headers));
      upRes.pipe(x.res);
      upRes.once("close", () => {
        if (!upRes.complete && !x.res.writableFinished) x.res.destroy();
      });
    });
  }

  function activate(x: Exchange, route: Route): void {
    x.abort = new AbortController();
    activator.activate(route, x.req, x.abort.signal).then(
      (endpoints) => {
        if (x.settled || x.res.destroyed) return;
        if (endpoints.length) return forward(x, route, endpoints);
        const unreachable = route.unreachable?.() ?? 0;
        const what = !route.service
          ? "it has no process with a port to send HTTP to"
          : unreachable
            ? `its ${unreachable} ready endpoint(s) are outside the networks this router may reach (BERTH_ROUTER_UPSTREAM_CIDRS)`
            : `its ${route.process} process has no ready pod`;
        reply(x, 503, "no-ready-endpoints", `app "${route.app}" (namespace ${route.namespace}) has no ready endpoint: ${what}`);
      },
      (err: unknown) => reply(x, 503, "activation-failed", `app "${route.app}" (namespace ${route.namespace}) could not be started: ${String(err)}`),
    );
  }

  return (req, res) => {
    const x: Exchange = { req, res, start: performance.now(), tried: new Set(), settled: false };
    res.once("close", () => finished(x));
    x.host = normalizeHost(req.headers.host);
    if (!x.host) return reply(x, 400, "no-host", "a Host header is needed to choose the app");
    const route = o.routes.resolve(x.host);
    if (!route) return reply(x, 404, "unknown-host", `no app answers on ${x.host}: apps answer on <app>.${o.appsDomain} and on their own domains`);
    x.route = route;
    o.activity?.begin(route.key);
    x.timer = setTimeout(() => {
      upstreamError(x, "timeout");
      reply(x, 504, "timeout", `app "${route.app}" (namespace ${route.namespace}) did not answer within ${seconds(o.requestTimeoutMs)}`);
    }, o.requestTimeoutMs);
    const endpoints = route.endpoints;
    if (endpoints.length) forward(x, route, endpoints);
    else activate(x, route);
  };
}
