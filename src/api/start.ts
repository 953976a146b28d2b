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
import { clusterDialect } from "./cluster/dialect.ts";
import { ClusterStore } from "./cluster/store.ts";
import { cloudDialect } from "./cloud/dialect.ts";
import { waiterDialect } from "./waiter/dialect.ts";
import { WaiterTokenStore } from "./waiter/token-store.ts";
import { IdentityStore } from "./identity/store.ts";
import { AppStore } from "./apps/store.ts";
import { BerthTypes, Labels } from "../model/kinds.ts";
import { Types } from "../kube/resource.ts";

/** Every dialect, each under its own prefixes: tsuru (/tsuru, /1.x), Deis (/v1), cloud (/v1/organizations), Waiter (the root), cluster (its own /v1/... and /secrets/... paths, and /cluster). */
export const DIALECTS = [tsuruDialect, deisDialect, cloudDialect, waiterDialect, clusterDialect];

export interface RunningApi {
  port: number;
  close(): Promise<void>;
}

/** Every kind the dialects read from a cache: registered at boot, so none is read before it synced. */
const CACHED_KINDS = [BerthTypes.App, BerthTypes.Release, BerthTypes.Pool, BerthTypes.Plan, BerthTypes.Team, BerthTypes.User, BerthTypes.Role, BerthTypes.ServiceClass, BerthTypes.ServiceInstance, BerthTypes.Platform, BerthTypes.ClusterSettings];

/** Registers the caches the API reads; call before the manager starts. */
export function apiDeps(manager: Manager, namespace: string, log: Logger, bootstrapAdmin?: string): ApiDeps {
  for (const t of CACHED_KINDS) manager.informers.informerFor(t);
  // The cloud API's backups: Jobs of instances' backup CronJobs.
  manager.informers.informerFor(Types.Job, { labelSelector: `${Labels.backup}=true` });
  const identity = new IdentityStore(manager.client, manager.informers, namespace, bootstrapAdmin);
  let ready = false;
  // Nothing but /healthz and /readyz answers until every cache has synced and the
  // administrator marker is settled: an empty cache must never decide who is admin or whether
  // a token is valid.
  void manager.informers
    .waitForSync()
    .then(() => retry(() => identity.ensureAdminMarker(), log))
    .then(() => {
      ready = true;
      log.info("api ready: caches synced");
    });
  return {
    client: manager.client,
    informers: manager.informers,
    log,
    identity,
    apps: new AppStore(manager.client, manager.informers),
    cluster: new ClusterStore(manager.client, manager.informers, namespace),
    waiterTokens: new WaiterTokenStore(manager.client, manager.informers, namespace),
    ready: () => ready && manager.informers.hasSynced,
  };
}

/** Runs op until it succeeds, pausing between tries (the cluster may be briefly unreachable). */
async function retry(op: () => Promise<void>, log: Logger): Promise<void> {
  for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      return await op();
    } catch (e) {
      log.warn("api start-up step failed; retrying", { error: String(e), retryInMs: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export async function startApi(deps: ApiDeps, config: Pick<Config, "apiHost" | "apiPort">, log: Logger): Promise<RunningApi> {
  const app = buildServer<ApiDeps>({ log: log.child({ component: "api" }), deps, dialects: DIALECTS, rewriteUrl: rewriteTsuruVersion, ready: deps.ready });
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
 * /apis/<group>/<version>/tsuru/..., .../v1/... (Deis, and the cluster API's /v1/jobs...),
 * .../secrets/... and .../cluster/... (the cluster API); callers are taken from the front
 * proxy's headers after its client certificate is verified.
 */
export async function startAggregatedApi(deps: ApiDeps, o: AggregationOptions, log: Logger): Promise<RunningApi> {
  const cfg = await loadFrontProxyConfig(deps.client);
  const basePath = `/apis/${o.group}/${o.version}`;
  const app = buildServer<ApiDeps>({
    log: log.child({ component: "aggregated-api" }),
    deps,
    // Not the cloud dialect: its callers authenticate with HTTP Basic API keys, which the
    // aggregator (authenticating the Kubernetes user) does not pass on. The cluster API takes
    // the caller (and its teams: berth:team:<name> groups) from the front proxy like the others.
    dialects: [tsuruDialect, deisDialect, waiterDialect, clusterDialect],
    basePath,
    https: { cert: readFileSync(o.certFile), key: readFileSync(o.keyFile), ca: cfg.clientCA, requestCert: true, rejectUnauthorized: false },
    identify: (req) => frontProxyPrincipal(req, cfg, deps.identity.users()),
    ready: deps.ready,
  });
  // Discovery: the aggregator checks the group version answers before routing to it.
  app.get(basePath, async () => ({ kind: "APIResourceList", apiVersion: "v1", groupVersion: `${o.group}/${o.version}`, resources: [] }));
  await app.listen({ host: o.host, port: o.port });
  const address = app.server.address();
  return { port: typeof address === "object" && address ? address.port : o.port, close: () => app.close() };
}
