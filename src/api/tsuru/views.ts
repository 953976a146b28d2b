// How tsuru shows Berth's objects: field names and shapes of the tsuru API's JSON.
import type { KubeObject } from "../../kube/resource.ts";
import type { App, Plan, Pool, Release } from "../../model/kinds.ts";
import { Labels } from "../../model/kinds.ts";
import { workloadName } from "../../reconcilers/desired/workloads.ts";
import { releaseEventId } from "./object-id.ts";
import { isBuiltImage } from "../apps/source.ts";

type Pod = KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string; podIP?: string; hostIP?: string; conditions?: { type: string; status: string }[] } };

const UNITS = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 } as Record<string, number>;

export function bytes(q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(q ?? "");
  return m ? Math.round(Number(m[1]) * (UNITS[m[2] ?? ""] ?? 1)) : 0;
}

export function millicpu(q: string | undefined): number {
  if (!q) return 0;
  return q.endsWith("m") ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000);
}

/** CPU and memory set on every process of the app (tsuru's plan override: app update --cpu/--memory). */
export function planOverride(app: App | undefined): { memory: number | null; cpumilli: number | null } {
  const procs = app?.spec.processes ?? [];
  const same = (pick: (r: { cpu?: string; memory?: string }) => string | undefined) => {
    const values = new Set(procs.map((p) => pick(p.resources ?? {})));
    const [only] = [...values];
    return values.size === 1 && only ? only : undefined;
  };
  const memory = same((r) => r.memory);
  const cpu = same((r) => r.cpu);
  return { memory: memory ? bytes(memory) : null, cpumilli: cpu ? millicpu(cpu) : null };
}

/** tsuru's plan (tsuru/tsuru:types/app/plan.go). */
export function planView(p: Plan | undefined) {
  return appPlanView(p, undefined);
}

/** An app's plan: the plan with the app's overrides (app update --cpu/--memory). */
export function appPlanView(p: Plan | undefined, app: App | undefined) {
  const override = { ...planOverride(app), cpuBurst: null };
  if (!p) return { name: "", memory: override.memory ?? 0, cpumilli: override.cpumilli ?? 0, default: false, override };
  return { name: p.metadata.name, memory: bytes(p.spec.memory), cpumilli: millicpu(p.spec.cpu), default: p.spec.default ?? false, override };
}

export function unitView(app: App, pod: Pod, version: number | undefined) {
  const proc = app.spec.processes.find((p) => p.name === pod.metadata.labels?.[Labels.process]);
  const port = proc?.ports?.[0]?.port;
  const host = pod.status?.podIP && port ? `${pod.status.podIP}:${port}` : "";
  const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  const phase = pod.status?.phase ?? "Pending";
  const status = pod.metadata.deletionTimestamp ? "stopping" : phase === "Running" ? (ready ? "started" : "starting") : phase === "Pending" ? "created" : "error";
  const release = pod.metadata.labels?.[Labels.release];
  return {
    ID: pod.metadata.name,
    Name: pod.metadata.name,
    AppName: app.metadata.name,
    ProcessName: pod.metadata.labels?.[Labels.process] ?? "",
    Type: "",
    InternalIP: pod.status?.podIP ?? "",
    IP: pod.status?.hostIP ?? "",
    Status: status,
    StatusReason: "",
    // Go url.URL field names; the CLI reads Address.Host.
    Address: host ? { Scheme: "http", Host: host } : null,
    Addresses: null,
    HostAddr: pod.status?.podIP ?? "",
    HostPort: port ? String(port) : "",
    Version: release ? Number(release.slice(1)) : (version ?? 0),
    Routable: true,
    Ready: ready,
    Restarts: 0,
    CreatedAt: pod.metadata.creationTimestamp ?? null,
  };
}

export function lockView(app: App) {
  return { Locked: app.spec.locked ?? false, Reason: "", Owner: "", AcquireDate: "0001-01-01T00:00:00Z" };
}

function routers(app: App) {
  const addresses = (app.status?.urls ?? []).map((u) => u.replace(/^https?:\/\//, ""));
  return addresses.length ? [{ name: "ingress", opts: {}, address: addresses[0], addresses, type: "ingress" }] : [];
}

export function appListItem(app: App, pods: Pod[], plan: Plan | undefined) {
  return {
    name: app.metadata.name,
    pool: app.spec.pool ?? "",
    teamowner: app.spec.owner ?? "",
    plan: appPlanView(plan, app),
    units: pods.map((p) => unitView(app, p, app.status?.currentReleaseVersion)),
    cname: app.spec.domains ?? [],
    ip: app.status?.urls?.[0]?.replace(/^https?:\/\//, "") ?? "",
    routers: routers(app),
    lock: lockView(app),
    tags: app.spec.tags ?? [],
    description: app.spec.description ?? "",
    error: app.status?.conditions?.find((c) => c.type === "Ready" && c.status === "False" && c.reason !== "RollingOut")?.message ?? "",
  };
}

/** Where other apps in the cluster reach this one: each process's Service (tsuru's AppInternalAddress). */
export function internalAddresses(app: App) {
  const name = app.metadata.name ?? "";
  return app.spec.processes.flatMap((p) =>
    (p.ports ?? []).map((port) => ({
      Domain: `${workloadName(name, p.name)}.${app.metadata.namespace}.svc.cluster.local`,
      Protocol: port.protocol ?? "TCP",
      Port: port.port,
      Version: "",
      Process: p.name,
    })),
  );
}

export function appInfo(app: App, pods: Pod[], plan: Plan | undefined, releases: Release[], bindings: { service: string; instance: string; plan: string }[] = []) {
  return {
    ...appListItem(app, pods, plan),
    internalAddresses: internalAddresses(app),
    router: "ingress",
    routeropts: {},
    metadata: { labels: [], annotations: [] },
    serviceInstanceBinds: bindings,
    provisioner: "kubernetes",
    platform: app.spec.platform ?? "",
    teams: [...new Set([app.spec.owner, ...(app.spec.teams ?? [])].filter(Boolean))],
    owner: app.metadata.annotations?.["berth.dev/actor"] ?? "",
    deploys: releases.length,
    repository: "",
    quota: { limit: -1, inuse: pods.length },
    processes: app.spec.processes.map((p) => ({ name: p.name, cmd: [...(p.command ?? []), ...(p.args ?? [])].join(" ") })),
    state: app.spec.state ?? "Running",
    status: app.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "",
  };
}

/** A release as tsuru's deploy data. */
export function deployView(app: App, r: Release) {
  return {
    ID: releaseEventId(app, r.spec.version),
    App: app.metadata.name,
    Timestamp: r.metadata.creationTimestamp,
    Duration: 0,
    Commit: "",
    Error: "",
    Image: r.spec.image,
    Version: r.spec.version,
    User: r.spec.author ?? "",
    Origin: r.spec.rollbackOf !== undefined ? "rollback" : isBuiltImage(app.metadata.name ?? "", r.spec.image) ? "app-deploy" : "image",
    CanRollback: true,
    Message: r.spec.summary ?? "",
  };
}

export function poolView(p: Pool) {
  return {
    name: p.metadata.name,
    provisioner: "kubernetes",
    default: p.spec.default ?? false,
    public: p.spec.public ?? false,
    teams: p.spec.teams ?? [],
    allowed: { team: p.spec.teams ?? [], plan: p.spec.plans ?? [] },
    labels: p.spec.nodeSelector ?? {},
  };
}

/** A release as a tsuru event (kind app.deploy or app.deploy.rollback). */
export function eventView(app: App, r: Release) {
  return {
    UniqueID: releaseEventId(app, r.spec.version),
    Target: { Type: "app", Value: app.metadata.name },
    Kind: { Type: "permission", Name: r.spec.rollbackOf !== undefined ? "app.deploy.rollback" : "app.deploy" },
    Owner: { Type: "user", Name: r.spec.author ?? "" },
    StartTime: r.metadata.creationTimestamp,
    EndTime: r.metadata.creationTimestamp,
    Running: false,
    Error: "",
    CustomData: { summary: r.spec.summary, version: r.spec.version, image: r.spec.image },
  };
}
