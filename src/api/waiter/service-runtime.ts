// Waiter services at run time: the App behind a service description (created on first use),
// starting it from zero with the router's wake mechanism (wakeActivator: Sleeping -> Running,
// then hold until an instance is ready), proxying with the router's proxy, recording
// requests on the App (so idle sleep counts them, on this process and on the router), and
// putting idle Waiter services to sleep (the router's appsToSleep decision).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../log.ts";
import type { App, Pool } from "../../model/kinds.ts";
import { Annotations, BerthTypes } from "../../model/kinds.ts";
import { keyOf } from "../../kube/resource.ts";
import { workloadName } from "../../reconcilers/desired/workloads.ts";
import { AppActivity } from "../../router/activity.ts";
import type { Endpoint } from "../../router/endpoints.ts";
import { endpointKey } from "../../router/endpoints.ts";
import { proxyHandler } from "../../router/proxy.ts";
import type { Route } from "../../router/routing-table.ts";
import { UpstreamPool } from "../../router/upstreams.ts";
import { appsToSleep, recordedLastRequest, wakeActivator } from "../../router/wake.ts";
import type { ApiDeps } from "../deps.ts";
import { ApiError, badRequest } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { personalTeam } from "../identity/personal-team.ts";
import type { TokenData } from "./token-data.ts";
import { serviceApp } from "./service-description.ts";
import { SERVICE_DESCRIPTION, SOURCE_TOKENS } from "./services.ts";

type Pod = {
  metadata: { name?: string; deletionTimestamp?: string; labels?: Record<string, string> };
  status?: {
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { restartCount?: number; state?: { waiting?: { reason?: string }; terminated?: { exitCode?: number } }; lastState?: { terminated?: { exitCode?: number } } }[];
  };
};

export interface SourceToken {
  token: string;
  version: string;
}

/** settings.clj :messages :bad-startup-command, as process_request.clj answers a service whose instances fail to start. */
export const BAD_STARTUP = "Deployment error: Invalid startup command";

const ready = (p: Pod) => !p.metadata.deletionTimestamp && (p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false);
/** A container that exited non-zero (now or before a restart), or is in crash-loop back-off. */
const crashed = (p: Pod) =>
  (p.status?.containerStatuses ?? []).some((c) => c.state?.waiting?.reason === "CrashLoopBackOff" || (c.state?.terminated?.exitCode ?? 0) !== 0 || (c.lastState?.terminated?.exitCode ?? 0) !== 0);

/** How often idle Waiter services are looked for. */
const IDLE_SWEEP_MS = 10_000;

export class WaiterServices {
  readonly activity = new AppActivity();
  private readonly upstreams = new UpstreamPool({ maxFreeSockets: 16 });
  private readonly startedAt = Date.now();
  private sweeper?: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(private readonly deps: ApiDeps) {
    this.log = deps.log.child({ component: "waiter-services" });
  }

  /** The image a description without `image` runs in: $BERTH_WAITER_IMAGE, else Python from the local registry. */
  static defaultImage(env: NodeJS.ProcessEnv = process.env): string {
    return env.BERTH_WAITER_IMAGE ?? (env.BERTH_REGISTRY ? `${env.BERTH_REGISTRY}/berth/python:3.11` : "python:3.11-slim");
  }

  /** The Pool Waiter services run in: $BERTH_WAITER_POOL, else the default pool. */
  private pool(): Pool {
    const named = process.env.BERTH_WAITER_POOL;
    const pool = named ? this.deps.apps.pool(named) : (this.deps.apps.pools().find((p) => p.spec.default) ?? this.deps.apps.pools().find((p) => p.spec.public));
    if (!pool) throw new ApiError(503, named ? `The pool ${named} (BERTH_WAITER_POOL) does not exist` : "No default pool: an administrator must create one (a Pool with default: true)");
    return pool;
  }

  /** The team a new service belongs to: the requester's personal team (a team's first, for team credentials). */
  private async ownerTeam(p: Principal): Promise<string> {
    if (!p.user) {
      const team = [...p.teams].sort()[0];
      if (!team) throw badRequest("These credentials belong to no team that could own the service");
      return team;
    }
    const team = personalTeam(p.user.spec.username ?? p.user.spec.email);
    await this.deps.identity.ensureTeam(team);
    if (!p.teams.has(team)) await this.deps.identity.addToTeam(p.user, team);
    return team;
  }

  /**
   * The App of a service description, created (in `state`) when there is none; the tokens the
   * request came through are recorded on it (source-tokens, with the token's ETag as version).
   */
  async ensure(desc: TokenData, sources: SourceToken[], p: Principal, state: "Running" | "Sleeping"): Promise<{ app: App; serviceId: string }> {
    const { name, serviceId, spec } = serviceApp(desc, WaiterServices.defaultImage());
    const annotations = { [SOURCE_TOKENS]: JSON.stringify(sources) };
    const existing = this.deps.apps.app(name);
    if (existing) {
      if (sources.length && existing.metadata.annotations?.[SOURCE_TOKENS] !== annotations[SOURCE_TOKENS]) {
        const app = await this.deps.client.mergePatch<App>(BerthTypes.App, existing.metadata.namespace, name, { metadata: { annotations } });
        return { app, serviceId };
      }
      return { app: existing, serviceId };
    }
    const pool = this.pool();
    const owner = await this.ownerTeam(p);
    try {
      const app = await this.deps.apps.create(name, { ...spec, owner, pool: pool.metadata.name, state }, pool, p.name, {
        labels: { "berth.dev/waiter-service": "true" },
        annotations: { ...annotations, [SERVICE_DESCRIPTION]: JSON.stringify(desc) },
      });
      this.log.info("waiter service created", { serviceId, app: name, namespace: app.metadata.namespace, state });
      return { app, serviceId };
    } catch (e) {
      // Two first requests at once: the other one created it.
      const raced = this.deps.apps.app(name);
      if (e instanceof ApiError && e.status === 409 && raced) return { app: raced, serviceId };
      throw e;
    }
  }

  /** The ready instances of the App's web process, as the router would send to them. */
  endpoints(app: App): Endpoint[] {
    const port = app.spec.processes.find((x) => x.name === "web")?.ports?.[0]?.port;
    if (port === undefined) return [];
    return (this.deps.apps.pods(app) as Pod[])
      .filter((p) => p.metadata.labels?.["berth.dev/process"] === "web" && ready(p) && p.status?.podIP)
      .map((p) => ({ address: p.status!.podIP!, port, key: endpointKey(p.status!.podIP!, port), pod: p.metadata.name ?? "" }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Instances that failed to start (exited non-zero, or crash-looping). */
  failed(app: App): number {
    return (this.deps.apps.pods(app) as Pod[]).filter((p) => !p.metadata.deletionTimestamp && crashed(p)).length;
  }

  private route(app: App): Route {
    let cursor = 0;
    return {
      key: keyOf(app),
      namespace: app.metadata.namespace ?? "",
      app: app.metadata.name ?? "",
      service: workloadName(app.metadata.name ?? "", "web"),
      process: "web",
      endpoints: this.endpoints(app),
      nextCursor: () => cursor++,
    };
  }

  /**
   * Ready instances of the service, starting it when it sleeps (the router's wake activator),
   * waiting at most queueTimeoutMs (x-waiter-queue-timeout): past it, or when its instances
   * fail to start, 503 in Waiter's words.
   */
  async start(app: App, queueTimeoutMs: number, client: AbortSignal): Promise<Endpoint[]> {
    const now = this.endpoints(app);
    if (now.length) return now;
    const abort = new AbortController();
    const onClient = () => abort.abort();
    client.addEventListener("abort", onClient, { once: true });
    let failedStart = false;
    const timer = setTimeout(() => abort.abort(), queueTimeoutMs);
    const activator = wakeActivator({
      app: (key) => this.deps.apps.apps().find((a) => keyOf(a) === key),
      setState: async (a, state) => {
        await this.deps.client.mergePatch(BerthTypes.App, a.metadata.namespace, a.metadata.name ?? "", { spec: { state } });
        this.log.info(state === "Running" ? "waiter service started by a request" : "waiter service idle: sleeping", { app: a.metadata.name });
      },
      waitForEndpoints: async (key, signal) => {
        for (;;) {
          const current = this.deps.apps.apps().find((a) => keyOf(a) === key);
          const eps = current ? this.endpoints(current) : [];
          if (eps.length || signal.aborted) return eps;
          if (current && this.failed(current) > 0) {
            failedStart = true;
            return [];
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      },
    });
    try {
      const eps = await activator.activate(this.route(app), undefined as unknown as IncomingMessage, abort.signal);
      if (eps.length) return [...eps];
      if (failedStart) throw new ApiError(503, BAD_STARTUP);
      if (client.aborted) throw new ApiError(499, "the client went away");
      const secs = Math.round(queueTimeoutMs / 1000);
      // process_request.clj: the queue timeout's message, with the hint when instances fail.
      throw new ApiError(503, `After ${secs} seconds, no instance available to handle request.${this.failed(app) ? " Check that your service is able to start properly!" : ""}`);
    } finally {
      clearTimeout(timer);
      client.removeEventListener("abort", onClient);
    }
  }

  /** Forwards the request to one of `endpoints` with the router's proxy (streamed both ways, retried only on connect errors). */
  proxy(req: IncomingMessage, res: ServerResponse, app: App, endpoints: readonly Endpoint[], requestTimeoutMs: number): void {
    const route = { ...this.route(app), endpoints };
    proxyHandler({ routes: { resolve: () => route }, upstreams: this.upstreams, appsDomain: "", requestTimeoutMs, connectTimeoutMs: 3000, retries: 2, activity: this.activity })(req, res);
  }

  /**
   * Records a request on the App (Annotations.lastRequest), at most every quarter of its idle
   * timeout (and every minute), so idle sleep here and in the router counts requests served here.
   */
  recordRequest(app: App, now = Date.now()): void {
    const idleMs = (app.spec.idle?.timeoutMinutes ?? 0) * 60_000;
    if (!idleMs) return;
    if (now - recordedLastRequest(app) < Math.min(60_000, idleMs / 4)) return;
    const annotations = { [Annotations.lastRequest]: new Date(now).toISOString() };
    app.metadata.annotations = { ...app.metadata.annotations, ...annotations };
    this.deps.client.mergePatch(BerthTypes.App, app.metadata.namespace, app.metadata.name ?? "", { metadata: { annotations } }).catch((e: unknown) => this.log.warn("could not record a request on the app", { app: app.metadata.name, error: String(e) }));
  }

  /** Puts idle Waiter services to sleep (the router's rule, with this process's counters and the recorded time). */
  startIdleSweep(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      const waiterApps = this.deps.apps.apps().filter((a) => a.metadata.labels?.["berth.dev/waiter-service"] === "true");
      for (const app of appsToSleep(waiterApps, (k) => this.activity.get(k), this.startedAt, Date.now())) {
        this.deps.client
          .mergePatch(BerthTypes.App, app.metadata.namespace, app.metadata.name ?? "", { spec: { state: "Sleeping" } })
          .then(() => this.log.info("waiter service idle: sleeping", { app: app.metadata.name }))
          .catch((e: unknown) => this.log.warn("could not put an idle waiter service to sleep", { app: app.metadata.name, error: String(e) }));
      }
    }, IDLE_SWEEP_MS);
    this.sweeper.unref();
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.upstreams.close();
  }
}
