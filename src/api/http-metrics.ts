// Request counts and latency by dialect and route template (never the raw URL: bounded cardinality).
import { Counter, Histogram, register } from "prom-client";

const labelNames = ["dialect", "method", "route", "code"] as const;

function metric<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

const requests = metric(
  "berth_api_requests_total",
  () => new Counter({ name: "berth_api_requests_total", help: "API requests by dialect, route and status code", labelNames }),
);
const latency = metric(
  "berth_api_request_duration_seconds",
  () =>
    new Histogram({
      name: "berth_api_request_duration_seconds",
      help: "API request latency by dialect, route and status code",
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    }),
);

export function observeRequest(dialect: string, method: string, route: string, code: number, seconds: number): void {
  const labels = { dialect, method, route, code: String(code) };
  requests.inc(labels);
  latency.observe(labels, seconds);
}
