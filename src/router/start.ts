// `berth router`: the data plane's own process. Watches Apps and the EndpointSlices of their
// Services, serves every app's URL on the configured addresses, and /healthz, /readyz (after
// the caches synced), /metrics on the metrics port.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setMaxListeners } from "node:events";
import type { KubeClient } from "../kube/client.ts";
import type { Logger } from "../log.ts";
import { startHealthServer } from "../runtime/health-server.ts";
import { InformerFactory } from "../runtime/informer.ts";
import type { Activator } from "./activator.ts";
import type { App } from "../model/kinds.ts";
import { BerthTypes } from "../model/kinds.ts";
import { appsToSleep, wakeActivator } from "./wake.ts";
import { AppActivity } from "./activity.ts";
import type { RouterConfig } from "./config.ts";
import { networkList } from "./config.ts";
import { proxyHandler } from "./proxy.ts";
import type { RoutingTable } from "./routing-table.ts";
import { upgradeHandler } from "./upgrade.ts";
import type { SleepingEndpoints } from "./sleeping-endpoints.ts";
import { routerServiceTarget, sleepingEndpoints } from "./sleeping-endpoints.ts";
import type { ActivatorTarget } from "./sleeping-slice.ts";
import { UpstreamPool } from "./upstreams.ts";
import { watchRoutes } from "./watch-routes.ts";

export interface RunningRouter {
  table: RoutingTable;
  activity: AppActivity;
  /** The bound HTTP port (the configured one, or the kernel's pick for port 0). */
  port: number;
  metricsPort: number;
  /** Fails /readyz from now on (shutdown begins), while requests are still served. */
  drain(): void;
  close(): Promise<void>;
}

export interface RouterDeps {
  client: KubeClient;
  log: Logger;
  /**
   * Scale from zero plugs in here, given the routing table (to wait for endpoints with
   * waitForEndpoints); default: 503 at once.
   */
  activator?: (table: RoutingTable) => Activator;
  /**
   * Scale to zero (wake.ts): a request for a Sleeping App wakes it, and Apps with spec.idle
   * sleep after their timeout without requests. Used when no activator is given.
   */
  wake?: boolean;
}

/** How often Apps are checked for idleness: every quarter of an idle minute (15 s). */
const idleSweepMs = (config: RouterConfig): number => Math.max(250, Math.round(config.idleMinuteMs / 4));

const SWEEP_MS = 30_000;

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startRouter(deps: RouterDeps, config: RouterConfig): Promise<RunningRouter> {
  const log = deps.log.child({ component: "router" });
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  const informers = new InformerFactory(deps.client, log);
  const upstream = config.upstreamNetworks.length ? networkList(config.upstreamNetworks) : undefined;
  const allowed = upstream ? (a: string) => upstream.check(a, a.includes(":") ? "ipv6" : "ipv4") : undefined;
  const table = watchRoutes(informers, { appsDomain: config.appsDomain, allowed });
  // Sleeping Services point at this router (address mode) or at the router Service's endpoints.
  let boundPort = 0;
  let sleeping: SleepingEndpoints | undefined;
  if (deps.wake && (config.activatorService || config.activatorAddress)) {
    const fixed = config.activatorAddress;
    const target: () => ActivatorTarget | undefined = config.activatorService
      ? routerServiceTarget(informers, config.activatorService, config.activatorPort, () => sleeping?.targetChanged())
      : () => (fixed && boundPort ? { addresses: [fixed], port: config.activatorPort ?? boundPort } : undefined);
    sleeping = sleepingEndpoints(deps.client, informers, log, target);
  }
  let draining = false;
  const health = await startHealthServer(config.metricsHost, config.metricsPort, () => informers.hasSynced && !draining);
  informers.start(abort.signal);
  await informers.waitForSync();
  for (const c of table.contestedHosts()) log.warn("host claimed by more than one app: the oldest with ready endpoints gets it", c);

  const upstreams = new UpstreamPool({ maxFreeSockets: config.idleSocketsPerEndpoint });
  const sweeper = setInterval(() => upstreams.sweep(table.endpointKeys()), SWEEP_MS);
  sweeper.unref();
  const activity = new AppActivity();
  const startedAt = Date.now();
  const appCache = informers.informerFor<App>(BerthTypes.App).store;
  const setState = async (app: App, state: "Running" | "Sleeping") => {
    await deps.client.mergePatch(BerthTypes.App, app.metadata.namespace, app.metadata.name ?? "", { spec: { state } });
    log.info(state === "Running" ? "app woken by a request" : "app idle: sleeping", { app: app.metadata.name, namespace: app.metadata.namespace });
  };
  const waker = deps.wake ? wakeActivator({ app: (key) => appCache.get(key), setState, waitForEndpoints: (key, signal) => table.waitForEndpoints(key, signal) }) : undefined;
  const idleSweep = deps.wake
    ? setInterval(() => {
        for (const app of appsToSleep(appCache.list(), (k) => activity.get(k), startedAt, Date.now(), config.idleMinuteMs)) {
          setState(app, "Sleeping").catch((e: unknown) => log.warn("could not put an idle app to sleep", { app: app.metadata.name, error: String(e) }));
        }
      }, idleSweepMs(config))
    : undefined;
  idleSweep?.unref();
  const accessLog = config.accessLog ? deps.log.child({ component: "access" }) : undefined;
  const handler = proxyHandler({
    routes: table,
    upstreams,
    appsDomain: config.appsDomain,
    requestTimeoutMs: config.requestTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    retries: config.retries,
    activator: deps.activator?.(table) ?? waker,
    activity,
    accessLog,
  });
  const onUpgrade = upgradeHandler({
    routes: table,
    connectTimeoutMs: config.connectTimeoutMs,
    retries: config.retries,
    activity,
    accessLog,
  });
  const servers: http.Server[] = [];
  let port = config.port;
  for (const address of config.addresses) {
    const server = http.createServer({ keepAliveTimeout: 75_000, headersTimeout: 80_000, requestTimeout: 0 }, handler);
    server.on("upgrade", onUpgrade);
    servers.push(server);
    // With port 0 every address shares the first one's pick.
    port = await listen(server, address, port);
  }
  boundPort = port;
  const stopSleeping = new AbortController();
  const sleepingRun = sleeping?.run(stopSleeping.signal);
  log.info("router listening", { addresses: config.addresses, port, metricsPort: health.port, appsDomain: config.appsDomain, upstreamNetworks: config.upstreamNetworks });
  return {
    table,
    activity,
    port,
    metricsPort: health.port,
    drain: () => {
      draining = true;
    },
    close: async () => {
      clearInterval(sweeper);
      if (idleSweep) clearInterval(idleSweep);
      stopSleeping.abort();
      await sleepingRun;
      // In address mode the slices point at this process alone: they go with it.
      if (sleeping && !config.activatorService) await sleeping.deleteAll();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeIdleConnections();
            }),
        ),
      );
      abort.abort();
      upstreams.close();
      await health.close();
      await informers.stopped();
    },
  };
}
