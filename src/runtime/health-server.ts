// /healthz (the process is alive), /readyz (caches are synced) and /metrics (Prometheus).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { register } from "prom-client";

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(host: string, port: number, ready: () => boolean): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return void res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    if (path === "/readyz") {
      const ok = ready();
      return void res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" }).end(ok ? "ok" : "caches not synced");
    }
    if (path === "/metrics") {
      register.metrics().then(
        (text) => res.writeHead(200, { "Content-Type": register.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
