// Waiter services over Berth's model: a Waiter service is an App's Release, and its
// service-id is the Release's content hash (DESIGN.md: "its content hash is Waiter's
// service-id"). Every App is visible here, whichever dialect made it; the current release's
// service has the App's pods as instances, earlier releases' services are Inactive.
// Shapes follow what Waiter's CLI reads (waiter-client: waiter/subcommands/show.py,
// waiter/querying.py) and the list of fields.
import type { App, Release } from "../../model/kinds.ts";
import { Labels } from "../../model/kinds.ts";
import type { KubeObject } from "../../kube/resource.ts";
import { effectiveDescription } from "./service-description.ts";

export type Pod = KubeObject & { spec?: { containers?: { ports?: { containerPort?: number }[] }[] }; status?: { phase?: string; podIP?: string; hostIP?: string; conditions?: { type: string; status: string }[] } };

export type ServiceStatus = "Running" | "Starting" | "Failing" | "Inactive";

/** Annotation on an App started through Waiter: JSON [{"token", "version"}] of the tokens it was made from. */
export const SOURCE_TOKENS = "berth.dev/waiter-source-tokens";
/** Annotation on an App started through Waiter: JSON of the service description it runs (without defaults). */
export const SERVICE_DESCRIPTION = "berth.dev/waiter-service-description";

/** The description an App was started from through Waiter, or undefined. */
export function storedDescription(app: App): Record<string, unknown> | undefined {
  const raw = app.metadata.annotations?.[SERVICE_DESCRIPTION];
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU quantity ("250m", "1") in cores. */
export function cpuCores(q: string | undefined): number {
  if (!q) return 0;
  return q.endsWith("m") ? Number(q.slice(0, -1)) / 1000 : Number(q) || 0;
}

/** Memory quantity ("128Mi", "1G", "512M") in MiB, as Waiter's mem. */
export function memMiB(q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]i?)?$/.exec(q ?? "");
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = m[2] ?? "";
  const bytes: Record<string, number> = { "": 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  return Math.round((n * (bytes[unit] ?? 1)) / 1024 ** 2);
}

/** Terminating pods are killed instances: they count for nothing else. */
const killed = (p: Pod) => !!p.metadata.deletionTimestamp;
const ready = (p: Pod) => !killed(p) && (p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false);
const failed = (p: Pod) => !killed(p) && p.status?.phase === "Failed";

export function sourceTokens(app: App): { token: string; version: string }[][] {
  const raw = app.metadata.annotations?.[SOURCE_TOKENS];
  if (!raw) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? [v as { token: string; version: string }[]] : [];
  } catch {
    return [];
  }
}

/** The release the App runs now (status.currentRelease, else the newest). */
export function currentRelease(app: App, releases: readonly Release[]): Release | undefined {
  return releases.find((r) => r.metadata.name === app.status?.currentRelease) ?? releases.reduce<Release | undefined>((a, r) => (!a || r.spec.version > a.spec.version ? r : a), undefined);
}

/** The service's parameters under Waiter's names. */
export function effectiveParameters(app: App, release: Release): Record<string, unknown> {
  const stored = storedDescription(app);
  if (stored) return effectiveDescription(stored);
  const web = release.spec.processes.find((p) => p.name === "web") ?? release.spec.processes[0];
  return {
    cmd: [...(web?.command ?? []), ...(web?.args ?? [])].join(" "),
    "cmd-type": "shell",
    cpus: cpuCores(web?.resources?.cpu) || 0.1,
    mem: memMiB(web?.resources?.memory) || 128,
    version: release.spec.image,
    image: release.spec.image,
    name: app.metadata.name,
    "health-check-url": web?.healthCheck?.path ?? "/status",
    "min-instances": web?.replicas ?? 1,
    "max-instances": app.spec.autoscaling?.maxReplicas ?? Math.max(web?.replicas ?? 1, 1),
  };
}

export interface ServiceView {
  app: App;
  release: Release;
  current: boolean;
  pods: Pod[];
  /** The last request for the App, ms since epoch, 0 if none: recorded on the App or seen by this process, whichever is later. */
  lastRequestAt?: number;
}

export function serviceStatus(v: ServiceView): ServiceStatus {
  if (!v.current || v.app.spec.state === "Stopped" || v.app.spec.state === "Sleeping") return v.pods.some(ready) ? "Running" : "Inactive";
  if (v.pods.some(ready)) return "Running";
  if (v.pods.some(failed)) return "Failing";
  return v.pods.some((p) => !killed(p)) ? "Starting" : "Inactive";
}

/** One entry of GET /apps. */
export function serviceSummary(v: ServiceView, withParameters: boolean): Record<string, unknown> {
  const params = effectiveParameters(v.app, v.release);
  const healthy = v.pods.filter(ready).length;
  const live = v.pods.filter((p) => !killed(p)).length;
  return {
    "service-id": v.release.spec.contentHash,
    url: v.app.status?.urls?.[0] ?? "",
    status: serviceStatus(v),
    "last-request-time": v.current && v.lastRequestAt ? new Date(v.lastRequestAt).toISOString() : null,
    "instance-counts": { "healthy-instances": healthy, "unhealthy-instances": live - healthy - v.pods.filter(failed).length, "failed-instances": v.pods.filter(failed).length },
    "request-metrics": { outstanding: 0, total: 0 },
    "resource-usage": { cpus: Number(((params.cpus as number) * healthy).toFixed(3)), mem: (params.mem as number) * healthy },
    "scaling-state": v.current && v.app.spec.state !== "Stopped" && v.app.spec.state !== "Sleeping" ? "stable" : "scale-down",
    "source-tokens": sourceTokens(v.app),
    // waiter-client action.py process_kill_request reads service-description.run-as-user of listed services.
    "service-description": storedDescription(v.app) ?? params,
    ...(withParameters ? { "effective-parameters": params } : {}),
  };
}

/** GET /apps/{service-id}. */
export function serviceDetail(v: ServiceView, withParameters: boolean): Record<string, unknown> {
  const serviceId = v.release.spec.contentHash;
  const instance = (p: Pod) => ({
    id: `${serviceId}.${p.metadata.name ?? ""}`,
    "healthy?": ready(p),
    host: p.status?.podIP ?? "",
    port: p.spec?.containers?.[0]?.ports?.[0]?.containerPort ?? 0,
    "log-directory": "",
    flags: [],
    "k8s/pod-name": p.metadata.name ?? "",
    "k8s/namespace": p.metadata.namespace ?? "",
  });
  const summary = serviceSummary(v, withParameters);
  return {
    ...summary,
    instances: {
      "active-instances": v.pods.filter((p) => !failed(p) && !killed(p)).map(instance),
      "failed-instances": v.pods.filter(failed).map(instance),
      "killed-instances": v.pods.filter(killed).map(instance),
    },
    "num-routers": 1,
  };
}

/** The pods of one release of an app (the release label carries "v<version>"). */
export function releasePods(pods: readonly Pod[], release: Release): Pod[] {
  return pods.filter((p) => p.metadata.labels?.[Labels.release] === `v${release.spec.version}`);
}
