// The cloud API's JSON shapes: Organization, Service and Backup as the ClickHouse Cloud OpenAPI
// spec (and its npm client's ServiceDetails type) name their fields; ids are UUIDs (Kubernetes
// uids), times RFC 3339.
import type { KubeObject } from "../../kube/resource.ts";
import type { ServiceClass, ServiceInstance, Team } from "../../model/kinds.ts";
import { backupStatus, servicePhase } from "../../reconcilers/desired/service-instance.ts";
import { organizationId } from "../../reconcilers/team.ts";
import { shownScaling } from "./rules.ts";

export type JobObj = KubeObject & {
  status?: { startTime?: string; completionTime?: string; succeeded?: number; failed?: number; conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
};

export function organizationView(team: Team) {
  return { id: organizationId(team), name: team.spec.displayName || team.metadata.name, createdAt: team.metadata.creationTimestamp ?? "", privateEndpoints: [] as unknown[] };
}

/** The state shown: the controller's, or what it will be when the controller has not caught up with the latest change yet. */
export function shownState(si: ServiceInstance): string {
  const current = si.status?.state;
  if (current && si.status?.observedGeneration === si.metadata.generation) return current;
  const ready = si.status?.readyReplicas ?? 0;
  return servicePhase(si, si.status ? { readyReplicas: ready, replicas: ready } : undefined);
}

export function serviceView(si: ServiceInstance, cls: ServiceClass | undefined) {
  const scaling = shownScaling(si.spec);
  const [host = `${si.metadata.name}.${si.metadata.namespace}.svc`, port = String(cls?.spec.port ?? 0)] = (si.status?.endpoint ?? "").split(":").filter(Boolean);
  return {
    id: si.metadata.uid ?? "",
    name: si.spec.displayName ?? si.metadata.name ?? "",
    provider: si.spec.provider ?? "",
    region: si.spec.region ?? "",
    state: shownState(si),
    endpoints: [{ protocol: "tcp", host, port: Number(port) }],
    tier: si.spec.tier ?? "production",
    minTotalMemoryGb: scaling.minTotalMemoryGb,
    maxTotalMemoryGb: scaling.maxTotalMemoryGb,
    numReplicas: scaling.numReplicas,
    idleScaling: scaling.idleScaling,
    idleTimeoutMinutes: scaling.idleTimeoutMinutes,
    ipAccessList: (si.spec.ipAccessList ?? []).map((e) => ({ source: e.source, description: e.description ?? "" })),
    createdAt: si.metadata.creationTimestamp ?? "",
  };
}

export function backupView(job: JobObj, si: ServiceInstance) {
  const status = backupStatus(job);
  const failedAt = job.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True")?.lastTransitionTime;
  const finishedAt = status === "done" ? job.status?.completionTime : status === "error" ? failedAt : undefined;
  return {
    id: job.metadata.uid ?? "",
    status,
    serviceId: si.metadata.uid ?? "",
    startedAt: job.status?.startTime ?? job.metadata.creationTimestamp ?? "",
    ...(finishedAt ? { finishedAt } : {}),
  };
}
