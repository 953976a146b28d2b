// Starts the API server on the manager's shared caches.
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Manager } from "../runtime/manager.ts";
import { buildServer } from "./server.ts";
import type { ApiDeps } from "./deps.ts";
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
