// Starts the API server on the manager's shared caches.
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Manager } from "../runtime/manager.ts";
import { buildServer } from "./server.ts";
import { readFileSync } from "node:fs";
import type { ApiDeps } from "./deps.ts";
import { frontProxyPrincipal, loadFrontProxyConfig } from "./identity/front-proxy.ts";
import { rewriteTsuruVersion, tsuruDialect } from "./tsuru/dialect.ts";
import { deisDialect } from "./deis/dialect.ts";
import { IdentityStore } from "./identity/store.ts";
import { AppStore } from "./apps/store.ts";

export interface RunningApi {
  port: number;
  close(): Promise<void>;
}

/** Registers the caches the API reads; call before the manager starts. */
export function apiDeps(manager: Manager, namespace: string, log: Logger): ApiDeps {
  return {
    client: manager.client,
    informers: manager.informers,
    log,
    identity: new IdentityStore(manager.client, manager.informers, namespace),
    apps: new AppStore(manager.client, manager.informers),
  };
}

export async function startApi(deps: ApiDeps, config: Pick<Config, "apiHost" | "apiPort">, log: Logger): Promise<RunningApi> {
  const app = buildServer<ApiDeps>({ log: log.child({ component: "api" }), deps, dialects: [tsuruDialect, deisDialect], rewriteUrl: rewriteTsuruVersion });
  await app.listen({ host: config.apiHost, port: config.apiPort });
  const address = app.server.address();
  return { port: typeof address === "object" && address ? address.port : config.apiPort, close: () => app.close() };
}

export interface AggregationOptions {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  group: string;
  version: string;
}

/**
 * The same dialects over TLS for kube-apiserver's aggregation layer, under
 * /apis/<group>/<version>/tsuru/... and .../v1/... (Deis); callers are taken from the front
 * proxy's headers after its client certificate is verified.
 */
export async function startAggregatedApi(deps: ApiDeps, o: AggregationOptions, log: Logger): Promise<RunningApi> {
  const cfg = await loadFrontProxyConfig(deps.client);
  const basePath = `/apis/${o.group}/${o.version}`;
  const app = buildServer<ApiDeps>({
    log: log.child({ component: "aggregated-api" }),
    deps,
    dialects: [tsuruDialect, deisDialect],
    basePath,
    https: { cert: readFileSync(o.certFile), key: readFileSync(o.keyFile), ca: cfg.clientCA, requestCert: true, rejectUnauthorized: false },
    identify: (req) => frontProxyPrincipal(req, cfg, deps.identity.users()),
  });
  // Discovery: the aggregator checks the group version answers before routing to it.
  app.get(basePath, async () => ({ kind: "APIResourceList", apiVersion: "v1", groupVersion: `${o.group}/${o.version}`, resources: [] }));
  await app.listen({ host: o.host, port: o.port });
  const address = app.server.address();
  return { port: typeof address === "object" && address ? address.port : o.port, close: () => app.close() };
}
