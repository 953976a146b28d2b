// Upgraded connections (WebSocket and other `Connection: Upgrade` protocols): the handshake is
// forwarded like a request (same host routing, round robin and connect-error retries), then the
// two sockets are piped together until either side closes.
import http from "node:http";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../log.ts";
import type { AppActivity } from "./activity.ts";
import { pickEndpoint } from "./endpoints.ts";
import { upstreamRequestHeaders } from "./headers.ts";
import { normalizeHost } from "./hosts.ts";
import { routerMetrics } from "./metrics.ts";
import type { Route, RouteSource } from "./routing-table.ts";

export interface UpgradeOptions {
  routes: RouteSource;
  connectTimeoutMs: number;
  retries: number;
  activity?: AppActivity;
  accessLog?: Logger;
}

/** An HTTP/1.1 response head written on a raw socket. */
function head(code: number, message: string, rawHeaders: string[]): string {
  const lines = [`HTTP/1.1 ${code} ${message}`];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

export function upgradeHandler(o: UpgradeOptions): (req: IncomingMessage, socket: Duplex, firstBytes: Buffer) => void {
  return (req, socket, firstBytes) => {
    const start = performance.now();
    const host = normalizeHost(req.headers.host);
    const route = host ? o.routes.resolve(host) : undefined;
    let code = 0;
    socket.on("error", () => socket.destroy());
    socket.once("close", () => {
      const labels = { namespace: route?.namespace ?? "", app: route?.app ?? "" };
      routerMetrics.requests.inc({ ...labels, code: String(code || 499) });
      if (route) o.activity?.end(route.key);
      o.accessLog?.info("upgrade", { method: req.method, host: host ?? "", path: req.url, status: code || 499, durationMs: Math.round(performance.now() - start), ...labels });
    });
    const refuse = (status: number, message: string, body: string) => {
      code = status;
      const text = `${body}\n`;
      socket.end(head(status, message, ["Content-Type", "text/plain; charset=utf-8", "Content-Length", String(Buffer.byteLength(text)), "Connection", "close"]) + text);
    };
    if (!route) return refuse(404, "Not Found", `no app answers on ${host ?? "(no Host header)"}`);
    o.activity?.begin(route.key);
    const tried = new Set<string>();
    const cursor = route.nextCursor();
    const attempt = (r: Route): void => {
      const ep = pickEndpoint(r.endpoints, cursor, tried);
      if (!ep) return refuse(r.endpoints.length ? 502 : 503, r.endpoints.length ? "Bad Gateway" : "Service Unavailable", `app "${r.app}" (namespace ${r.namespace}) has no endpoint that accepted a connection`);
      tried.add(ep.key);
      const headers = upstreamRequestHeaders(req.headers, { remoteAddress: req.socket.remoteAddress ?? "", encrypted: false });
      headers.connection = "Upgrade";
      if (req.headers.upgrade) headers.upgrade = req.headers.upgrade;
      // A connection of its own: an upgraded socket never goes back to a keep-alive pool.
      const up = http.request({ host: ep.address, port: ep.port, method: req.method, path: req.url, headers, setHost: false, agent: false });
      let connected = false;
      const timer = setTimeout(() => up.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })), o.connectTimeoutMs);
      up.once("socket", (s) => s.once("connect", () => ((connected = true), clearTimeout(timer))));
      up.on("error", () => {
        clearTimeout(timer);
        if (!connected && tried.size <= o.retries && !socket.destroyed) {
          routerMetrics.upstreamErrors.inc({ namespace: r.namespace, app: r.app, reason: "connect" });
          routerMetrics.retries.inc({ namespace: r.namespace, app: r.app });
          return attempt(r);
        }
        if (code) return void socket.destroy();
        refuse(502, "Bad Gateway", `app "${r.app}" (namespace ${r.namespace}) failed the ${req.headers.upgrade ?? "upgrade"} handshake`);
      });
      up.once("upgrade", (res, upSocket, upHead) => {
        code = res.statusCode ?? 101;
        socket.write(head(code, res.statusMessage ?? "Switching Protocols", res.rawHeaders));
        if (upHead.length) socket.write(upHead);
        upSocket.on("error", () => socket.destroy());
        socket.once("close", () => upSocket.destroy());
        upSocket.once("close", () => socket.destroy());
        upSocket.pipe(socket).pipe(upSocket);
      });
      // The app declined to upgrade: relay its plain answer and close.
      up.once("response", (res) => {
        code = res.statusCode ?? 502;
        socket.write(head(code, res.statusMessage ?? "", [...res.rawHeaders, "Connection", "close"]));
        res.pipe(socket);
      });
      up.end();
    };
    // Bytes that came after the handshake belong to the upgraded protocol: they flow once piped.
    if (firstBytes.length) socket.unshift(firstBytes);
    attempt(route);
  };
}
