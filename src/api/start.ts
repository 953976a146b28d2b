// Starts the API server on the manager's shared caches.
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Manager } from "../runtime/manager.ts";
import { buildServer } from "./server.ts";
import type { ApiDeps } from "./deps.ts";
import { rewriteTsuruVersion, tsuruDialect } from "./tsuru/dialect.ts";

export interface RunningApi {
  port: number;
  close(): Promise<void>;
}

export async function startApi(manager: Manager, config: Pick<Config, "apiHost" | "apiPort">, log: Logger): Promise<RunningApi> {
  const deps: ApiDeps = { client: manager.client, informers: manager.informers, log };
  const app = buildServer<ApiDeps>({ log: log.child({ component: "api" }), deps, dialects: [tsuruDialect], rewriteUrl: rewriteTsuruVersion });
  await app.listen({ host: config.apiHost, port: config.apiPort });
  const address = app.server.address();
  return { port: typeof address === "object" && address ? address.port : config.apiPort, close: () => app.close() };
}
