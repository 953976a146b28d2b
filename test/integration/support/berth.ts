// Runs Berth's controllers (and optionally the API server) in the test process against the
// test cluster, with the same wiring as `berth run`, leader election off.
import { apiDeps, startApi } from "../../../src/api/start.ts";
import type { RunningApi } from "../../../src/api/start.ts";
import { KubeClient } from "../../../src/kube/client.ts";
import type { Logger } from "../../../src/log.ts";
import { silentLogger } from "../../../src/log.ts";
import { Manager } from "../../../src/runtime/manager.ts";
import { kubectl } from "./kube.ts";
import { setupControllers } from "../../../src/controllers/all.ts";

export interface RunningBerth {
  manager: Manager;
  client: KubeClient;
  api?: RunningApi;
  apiURL: string;
  stop(): Promise<void>;
}

export async function installCRDs(): Promise<void> {
  const root = process.env.BERTH_ROOT ?? process.cwd();
  await kubectl("apply", "--server-side", "--force-conflicts", "-f", `${root}/crds/`);
  await kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", `${root}/crds/`);
  // Berth's own namespace (tokens, password hashes), as the Helm chart's release namespace.
  await kubectl("create", "namespace", "berth-system").catch(() => undefined);
}

export interface BerthOptions {
  api?: boolean;
  /** Berth's own namespace (tokens, password hashes, the admin marker); default berth-system. */
  namespace?: string;
  bootstrapAdmin?: string;
  /** Where the API logs go (default: nowhere). */
  log?: Logger;
  /** How long a minute of a service's idle timeout lasts (default a minute). */
  serviceIdleMinuteMs?: number;
}

export async function startBerth(o: BerthOptions = {}): Promise<RunningBerth> {
  await installCRDs();
  const client = await KubeClient.create();
  const log = o.log ?? silentLogger();
  const namespace = o.namespace ?? "berth-system";
  if (namespace !== "berth-system") await kubectl("create", "namespace", namespace).catch(() => undefined);
  const manager = new Manager({ client, log });
  setupControllers(manager, { namespace, concurrency: 4, serviceIdleMinuteMs: o.serviceIdleMinuteMs });
  const deps = o.api ? apiDeps(manager, namespace, log, o.bootstrapAdmin) : undefined;
  const api = deps ? await startApi(deps, { apiHost: "127.0.0.1", apiPort: 0 }, log) : undefined;
  const abort = new AbortController();
  const done = manager.run(abort.signal);
  await manager.informers.waitForSync();
  // The API answers once its caches synced and the administrator marker is settled.
  while (deps && !deps.ready()) await new Promise((r) => setTimeout(r, 20));
  return {
    manager,
    client,
    api,
    apiURL: api ? `http://127.0.0.1:${api.port}` : "",
    stop: async () => {
      abort.abort();
      await done;
      await api?.close();
      await manager.close();
      client.close();
    },
  };
}
