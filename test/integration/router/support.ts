// The router under test: `berth router`'s wiring in the test process, against the test cluster,
// plus a small HTTP client that sets the Host header.
import http from "node:http";
import type { KubeClient } from "../../../src/kube/client.ts";
import { silentLogger } from "../../../src/log.ts";
import type { Activator } from "../../../src/router/activator.ts";
import type { RouterConfig } from "../../../src/router/config.ts";
import { loadRouterConfig } from "../../../src/router/config.ts";
import type { RoutingTable } from "../../../src/router/routing-table.ts";
import type { RunningRouter } from "../../../src/router/start.ts";
import { startRouter } from "../../../src/router/start.ts";
import { kubectl } from "../support/kube.ts";

export const APPS_DOMAIN = "berth.localhost";
/** The real node's pod network: KWOK's fake pod IPs (10.244.0.0/16) are never dialled. */
export const REAL_POD_NETWORK = "10.245.0.0/16";

export function testRouter(client: KubeClient, o: Partial<RouterConfig> = {}, activator?: (table: RoutingTable) => Activator, wake = false): Promise<RunningRouter> {
  const config: RouterConfig = {
    ...loadRouterConfig([], {}),
    port: 0,
    metricsPort: 0,
    appsDomain: APPS_DOMAIN,
    upstreamNetworks: [REAL_POD_NETWORK],
    accessLog: false,
    connectTimeoutMs: 1000,
    requestTimeoutMs: 10_000,
    ...o,
  };
  return startRouter({ client, log: silentLogger(), activator, wake }, config);
}

export interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One GET with its own connection; fails when no byte comes for timeoutMs. */
export function get(port: number, host: string, path = "/", timeoutMs = 15_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${host}${path}: no answer in ${timeoutMs / 1000} s`)));
    req.on("error", reject);
  });
}

/** The name of a Ready node in the real node group, or undefined (KWOK nodes only). */
export async function realNode(): Promise<string | undefined> {
  const out = await kubectl("get", "nodes", "-l", "berth.dev/node-group=real", "-o", 'jsonpath={range .items[*]}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}');
  return out
    .split("\n")
    .map((l) => l.trim().split(" "))
    .find(([, ready]) => ready === "True")?.[0];
}

/** A counter's value summed over the series whose labels include `labels`. */
export async function metricValue(metricsPort: number, name: string, labels: Record<string, string>): Promise<number> {
  const text = (await get(metricsPort, "127.0.0.1", "/metrics")).body;
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}
