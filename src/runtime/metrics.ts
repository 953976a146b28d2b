// Prometheus metrics under controller-runtime's names, so existing dashboards work.
// All live in prom-client's default registry (served at /metrics).
import { Counter, Gauge, Histogram, register } from "prom-client";

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export const controllerMetrics = {
  reconcileTotal: once(
    "controller_runtime_reconcile_total",
    () =>
      new Counter({
        name: "controller_runtime_reconcile_total",
        help: "Total number of reconciliations per controller",
        labelNames: ["controller", "result"],
      }),
  ),
  reconcileErrors: once(
    "controller_runtime_reconcile_errors_total",
    () => new Counter({ name: "controller_runtime_reconcile_errors_total", help: "Total number of reconciliation errors per controller", labelNames: ["controller"] }),
  ),
  reconcileTime: once(
    "controller_runtime_reconcile_time_seconds",
    () =>
      new Histogram({
        name: "controller_runtime_reconcile_time_seconds",
        help: "Length of time per reconciliation per controller",
        labelNames: ["controller"],
        buckets: latencyBuckets,
      }),
  ),
  activeWorkers: once(
    "controller_runtime_active_workers",
    () => new Gauge({ name: "controller_runtime_active_workers", help: "Number of currently used workers per controller", labelNames: ["controller"] }),
  ),
  maxConcurrent: once(
    "controller_runtime_max_concurrent_reconciles",
    () => new Gauge({ name: "controller_runtime_max_concurrent_reconciles", help: "Maximum number of concurrent reconciles per controller", labelNames: ["controller"] }),
  ),
};

export const queueMetrics = {
  depth: once("workqueue_depth", () => new Gauge({ name: "workqueue_depth", help: "Current depth of workqueue", labelNames: ["name"] })),
  adds: once("workqueue_adds_total", () => new Counter({ name: "workqueue_adds_total", help: "Total number of adds handled by workqueue", labelNames: ["name"] })),
  retries: once(
    "workqueue_retries_total",
    () => new Counter({ name: "workqueue_retries_total", help: "Total number of retries handled by workqueue", labelNames: ["name"] }),
  ),
  queueDuration: once(
    "workqueue_queue_duration_seconds",
    () =>
      new Histogram({
        name: "workqueue_queue_duration_seconds",
        help: "How long in seconds an item stays in workqueue before being requested",
        labelNames: ["name"],
        buckets: [0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5, 10, 60],
      }),
  ),
  workDuration: once(
    "workqueue_work_duration_seconds",
    () =>
      new Histogram({
        name: "workqueue_work_duration_seconds",
        help: "How long in seconds processing an item from workqueue takes",
        labelNames: ["name"],
        buckets: latencyBuckets,
      }),
  ),
};

export const leaderMetrics = {
  masterStatus: once(
    "leader_election_master_status",
    () => new Gauge({ name: "leader_election_master_status", help: "1 if this process is the leader of the named lease, 0 otherwise", labelNames: ["name"] }),
  ),
};

export const reflectorMetrics = {
  relists: once(
    "berth_reflector_relists_total",
    () => new Counter({ name: "berth_reflector_relists_total", help: "Relists after a watch's resourceVersion expired (410 Gone)", labelNames: ["resource"] }),
  ),
  watchErrors: once(
    "berth_reflector_watch_errors_total",
    () => new Counter({ name: "berth_reflector_watch_errors_total", help: "Failed list or watch requests, retried with backoff", labelNames: ["resource"] }),
  ),
};

export const eventMetrics = {
  suppressed: once(
    "berth_events_suppressed_total",
    () => new Counter({ name: "berth_events_suppressed_total", help: "Kubernetes events not sent because of de-duplication rate limits", labelNames: ["reason"] }),
  ),
};

export const kubeRequestMetrics = {
  requests: once(
    "berth_kube_requests_total",
    () => new Counter({ name: "berth_kube_requests_total", help: "Requests to the Kubernetes API server by verb and resource (watches counted when opened)", labelNames: ["verb", "resource"] }),
  ),
};

/** Per cache: its resource and how many objects it holds now. */
export type CacheSizes = () => Iterable<{ resource: string; objects: number }>;
const caches = new Set<CacheSizes>();

export const cacheMetrics = {
  objects: once(
    "berth_cache_objects",
    () =>
      new Gauge({
        name: "berth_cache_objects",
        help: "Objects held in the shared informer caches, per resource (what the operator's memory grows with)",
        labelNames: ["resource"],
        collect() {
          this.reset();
          for (const sizes of caches) for (const { resource, objects } of sizes()) this.inc({ resource }, objects);
        },
      }),
  ),
  /** Reports a set of caches until the returned function is called. */
  track(sizes: CacheSizes): () => void {
    caches.add(sizes);
    return () => caches.delete(sizes);
  },
};
