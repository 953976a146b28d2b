// Per-app router metrics (prom-client's default registry, served on the metrics port).
// Labels are namespace and app, never the host or path: cardinality stays bounded by apps.
import { Counter, Histogram, register } from "prom-client";

function metric<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const routerMetrics = {
  requests: metric(
    "berth_router_requests_total",
    () => new Counter({ name: "berth_router_requests_total", help: "Requests through the router by app and status code (app \"\" for unknown hosts)", labelNames: ["namespace", "app", "code"] }),
  ),
  duration: metric(
    "berth_router_request_duration_seconds",
    () =>
      new Histogram({
        name: "berth_router_request_duration_seconds",
        help: "Time from a request's arrival to the end of its response, by app",
        labelNames: ["namespace", "app"],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      }),
  ),
  upstreamErrors: metric(
    "berth_router_upstream_errors_total",
    () =>
      new Counter({
        name: "berth_router_upstream_errors_total",
        help: "Failed upstream attempts by app and reason (connect, stale-connection, timeout, reset)",
        labelNames: ["namespace", "app", "reason"],
      }),
  ),
  retries: metric(
    "berth_router_retries_total",
    () => new Counter({ name: "berth_router_retries_total", help: "Requests sent to another endpoint after a connect error", labelNames: ["namespace", "app"] }),
  ),
};
