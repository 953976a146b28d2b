// `berth git`: the git endpoint's own process. Caches Users (their SSH keys), Apps, Releases
// and Platforms; serves SSH on the configured port, and /healthz, /readyz (after the caches
// synced), /metrics on the metrics port.
import type { AddressInfo } from "node:net";
import { AppStore } from "../api/apps/store.ts";
import type { KubeClient } from "../kube/client.ts";
import type { Logger } from "../log.ts";
import { BerthTypes } from "../model/kinds.ts";
import { startHealthServer } from "../runtime/health-server.ts";
import { InformerFactory } from "../runtime/informer.ts";
import type { GitConfig } from "./config.ts";
import { hostKey } from "./host-key.ts";
import { gitServer } from "./server.ts";

export interface RunningGit {
  /** The bound SSH port (the configured one, or the kernel's pick for port 0). */
  port: number;
  metricsPort: number;
  close(): Promise<void>;
}

export async function startGit(deps: { client: KubeClient; log: Logger }, config: GitConfig): Promise<RunningGit> {
  const log = deps.log.child({ component: "git" });
  const abort = new AbortController();
  const informers = new InformerFactory(deps.client, log);
  for (const t of [BerthTypes.User, BerthTypes.Platform]) informers.informerFor(t);
  const apps = new AppStore(deps.client, informers, false);
  const health = await startHealthServer(config.metricsHost, config.metricsPort, () => informers.hasSynced);
  informers.start(abort.signal);
  await informers.waitForSync();
  const key = await hostKey(deps.client, config.namespace, config.hostKeyFile);
  const server = gitServer({ client: deps.client, informers, log, apps }, { hostKey: key, appsDomain: config.appsDomain, tmpDir: config.tmpDir, rolloutTimeoutMs: config.rolloutTimeoutMs }, log);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info("git endpoint listening", { address: config.address, port, metricsPort: health.port });
  return {
    port,
    metricsPort: health.port,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      abort.abort();
      await health.close();
      await informers.stopped();
    },
  };
}
