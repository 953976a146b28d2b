// The routing table: host -> app -> the ready endpoints of its web process's Service. Fed by
// the App and EndpointSlice informers (see watch-routes.ts); endpoint lists are computed once
// per slice change, not per request.
import { isIP } from "node:net";
import type { App } from "../model/kinds.ts";
import { keyOf } from "../kube/resource.ts";
import { primaryProcess, workloadName } from "../reconcilers/desired/workloads.ts";
import type { Endpoint, EndpointSlice } from "./endpoints.ts";
import { readyEndpoints } from "./endpoints.ts";
import { HostIndex, appHosts, serviceHosts } from "./hosts.ts";

/** Where a request for one app goes. */
export interface Route {
  /** "namespace/name" of the App. */
  readonly key: string;
  readonly namespace: string;
  readonly app: string;
  /** The web process's Service ("" when the app has no process with a port). */
  readonly service: string;
  readonly process: string;
  /** Ready endpoints now (possibly none). */
  readonly endpoints: readonly Endpoint[];
  /** The round-robin cursor: a new value on every call. */
  nextCursor(): number;
  /** Ready endpoints left out because they are outside the networks the router may reach. */
  unreachable?(): number;
}

export interface RouteSource {
  resolve(host: string): Route | undefined;
}

export interface RoutingTableOptions {
  appsDomain: string;
  /** The current slices of a Service ("namespace/name"), without the router's own. */
  slicesOf(serviceKey: string): readonly EndpointSlice[];
  /** The Service ("namespace/name") whose ClusterIP this is, for requests with an IP as Host. */
  serviceByClusterIP?(ip: string): string | undefined;
  /** Endpoint addresses the router may connect to. */
  allowed?(address: string): boolean;
}

class AppRoute implements Route {
  private cursor = 0;
  private cached?: readonly Endpoint[];

  constructor(
    readonly key: string,
    readonly namespace: string,
    readonly app: string,
    readonly service: string,
    readonly process: string,
    readonly portName: string | undefined,
    private readonly table: RoutingTableOptions,
  ) {}

  get serviceKey(): string {
    return `${this.namespace}/${this.service}`;
  }

  get endpoints(): readonly Endpoint[] {
    if (!this.service) return [];
    this.cached ??= readyEndpoints(this.table.slicesOf(this.serviceKey), this.portName, this.table.allowed);
    return this.cached;
  }

  unreachable(): number {
    if (!this.service || !this.table.allowed) return 0;
    return readyEndpoints(this.table.slicesOf(this.serviceKey), this.portName).length - this.endpoints.length;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  nextCursor(): number {
    this.cursor = (this.cursor + 1) % Number.MAX_SAFE_INTEGER;
    return this.cursor;
  }
}

export class RoutingTable implements RouteSource {
  private readonly hosts = new HostIndex();
  private readonly routes = new Map<string, AppRoute>();
  private readonly byService = new Map<string, AppRoute>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly o: RoutingTableOptions) {}

  /** The app for host; of several claiming it, the oldest with ready endpoints, else the oldest. */
  resolve(host: string): Route | undefined {
    const ip = host.startsWith("[") ? host.slice(1, -1) : host;
    if (isIP(ip)) {
      const service = this.o.serviceByClusterIP?.(ip);
      return service === undefined ? undefined : this.byService.get(service);
    }
    const keys = this.hosts.candidates(host);
    if (keys.length <= 1) return keys[0] === undefined ? undefined : this.routes.get(keys[0]);
    const routes = keys.map((k) => this.routes.get(k)).filter((r): r is AppRoute => r !== undefined);
    return routes.find((r) => r.endpoints.length > 0) ?? routes[0];
  }

  /** The route of an app by "namespace/name". */
  route(appKey: string): Route | undefined {
    return this.routes.get(appKey);
  }

  setApp(app: App): void {
    const key = keyOf(app);
    const namespace = app.metadata.namespace ?? "";
    const name = app.metadata.name ?? "";
    const web = primaryProcess(app.spec?.processes ?? []);
    const port = web?.ports?.[0];
    const service = web && port ? workloadName(name, web.name) : "";
    const old = this.routes.get(key);
    if (old) this.byService.delete(old.serviceKey);
    const route = new AppRoute(key, namespace, name, service, web?.name ?? "", port ? (port.name ?? "http") : undefined, this.o);
    this.routes.set(key, route);
    if (service) this.byService.set(route.serviceKey, route);
    const hosts = [...appHosts(name, app.spec?.domains, this.o.appsDomain), ...(service ? serviceHosts(service, namespace) : [])];
    this.hosts.set(key, hosts, `${app.metadata.creationTimestamp ?? "~"} ${key}`);
    this.notify(key);
  }

  deleteApp(app: App): void {
    const key = keyOf(app);
    const old = this.routes.get(key);
    if (old) this.byService.delete(old.serviceKey);
    this.routes.delete(key);
    this.hosts.delete(key);
  }

  /** A slice of this Service ("namespace/name") changed: recompute its endpoints on next use. */
  serviceChanged(serviceKey: string): void {
    const route = this.byService.get(serviceKey);
    if (!route) return;
    route.invalidate();
    this.notify(route.key);
  }

  /**
   * Resolves with the app's ready endpoints as soon as it has some (at once if it has), or
   * with none when the signal aborts. For an activator that holds requests while an app wakes.
   */
  async waitForEndpoints(appKey: string, signal: AbortSignal): Promise<readonly Endpoint[]> {
    for (;;) {
      const now = this.routes.get(appKey)?.endpoints ?? [];
      if (now.length || signal.aborted) return now;
      await new Promise<void>((resolve) => {
        const set = this.waiters.get(appKey) ?? new Set();
        this.waiters.set(appKey, set);
        const wake = () => {
          set.delete(wake);
          signal.removeEventListener("abort", wake);
          resolve();
        };
        set.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }

  /** Every endpoint of every route now: the upstream pools keep connections to these only. */
  endpointKeys(): Set<string> {
    const keys = new Set<string>();
    for (const r of this.routes.values()) for (const ep of r.endpoints) keys.add(ep.key);
    return keys;
  }

  contestedHosts(): ReturnType<HostIndex["contested"]> {
    return this.hosts.contested();
  }

  private notify(appKey: string): void {
    for (const wake of [...(this.waiters.get(appKey) ?? [])]) wake();
  }
}
