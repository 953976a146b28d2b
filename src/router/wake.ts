// Request-driven start and idle sleep for Apps (the Waiter issue, on the router's activator
// hook). Pure decisions, and an activator built from three operations the caller supplies, so
// both are unit-testable without a cluster:
//   - a request for a Sleeping App (no ready endpoint) sets the App's spec.state to Running
//     (the controllers converge: replicas come back) and is held until an endpoint is ready;
//   - an App with spec.idle.timeoutMinutes that saw no request for that long (by this router's
//     own counters, never less than the router's uptime) is put to Sleeping.
import type { IncomingMessage } from "node:http";
import type { App } from "../model/kinds.ts";
import { Annotations } from "../model/kinds.ts";
import type { Activator } from "./activator.ts";
import type { AppActivitySnapshot } from "./activity.ts";
import type { Endpoint } from "./endpoints.ts";
import type { Route } from "./routing-table.ts";

export interface WakeOps {
  /** The App behind a route key ("namespace/name"), from a cache. */
  app(key: string): App | undefined;
  /** Sets the App's spec.state (a merge patch of spec.state only). */
  setState(app: App, state: "Running" | "Sleeping"): Promise<void>;
  /** Resolves with ready endpoints once there are some, or none when signal aborts. */
  waitForEndpoints(key: string, signal: AbortSignal): Promise<readonly Endpoint[]>;
}

export function wakeActivator(ops: WakeOps): Activator {
  return {
    async activate(route: Route, _req: IncomingMessage, signal: AbortSignal): Promise<readonly Endpoint[]> {
      const app = ops.app(route.key);
      // A Sleeping App wakes; a Stopped one stays stopped (503 at once).
      if (app?.spec.state === "Stopped") return [];
      if (app?.spec.state === "Sleeping") await ops.setState(app, "Running");
      return ops.waitForEndpoints(route.key, signal);
    },
  };
}

/** The last request another proxy recorded on the App (Annotations.lastRequest: the API's Waiter service requests), ms since epoch; 0 if none. */
export function recordedLastRequest(app: App): number {
  const t = Date.parse(app.metadata.annotations?.[Annotations.lastRequest] ?? "");
  return Number.isFinite(t) ? t : 0;
}

/**
 * Apps to put to sleep at `now`: running, with an idle timeout, nothing in flight, and no
 * request for the timeout, counting from whichever is latest of the last request (seen here
 * or recorded on the App) and `since` (the router's start: after a restart every app first looks busy).
 */
export function appsToSleep(apps: readonly App[], activity: (key: string) => AppActivitySnapshot, since: number, now: number, minuteMs = 60_000): App[] {
  return apps.filter((app) => {
    const minutes = app.spec.idle?.timeoutMinutes;
    if (!minutes || minutes <= 0) return false;
    if (app.spec.state === "Stopped" || app.spec.state === "Sleeping") return false;
    const a = activity(`${app.metadata.namespace}/${app.metadata.name}`);
    return a.inFlight === 0 && now - Math.max(a.lastRequestAt, recordedLastRequest(app), since) >= minutes * minuteMs;
  });
}
