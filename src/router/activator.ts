// The extension point for scale to zero (the Waiter issue): what the router does with a
// request for a known app that has no ready endpoint. The default answers 503 at once. An
// activator can instead hold the request, wake the app (scale its processes up), and resolve
// with endpoints once a pod is ready, e.g. via RoutingTable.waitForEndpoints(route.key, signal)
// (startRouter hands the table to the activator's factory); the proxy then forwards the held
// request as usual (body still unread, so nothing is lost).
import type { IncomingMessage } from "node:http";
import type { Endpoint } from "./endpoints.ts";
import type { Route } from "./routing-table.ts";

export interface Activator {
  /**
   * Called when `route` has no ready endpoint. Resolve with endpoints to forward to, or with
   * none to answer 503. `signal` aborts when the client goes away or the request times out.
   */
  activate(route: Route, req: IncomingMessage, signal: AbortSignal): Promise<readonly Endpoint[]>;
}

/** No scale-from-zero: an app without ready endpoints answers 503 at once. */
export const answerUnavailable: Activator = {
  activate: () => Promise.resolve([]),
};
