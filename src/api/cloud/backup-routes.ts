// GET .../services/{serviceId}/backups and .../backups/{backupId}: backups are the Jobs of the
// instance's backup CronJob (labelled berth.dev/backup), read from the API's cache.
import type { FastifyInstance } from "fastify";
import { Types } from "../../kube/resource.ts";
import { Labels } from "../../model/kinds.ts";
import type { ServiceInstance } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { notFound } from "../errors.ts";
import { caller, ok } from "./http.ts";
import type { JobObj } from "./views.ts";
import { backupView } from "./views.ts";
import { serviceOf } from "./service-routes.ts";

/** The cache of backup Jobs (registered at boot by apiDeps). */
export const backupJobs = (deps: ApiDeps) => deps.informers.informerFor<JobObj>(Types.Job, { labelSelector: `${Labels.backup}=true` }).store;

export function backupsOf(deps: ApiDeps, si: ServiceInstance): JobObj[] {
  return backupJobs(deps)
    .list()
    .filter((j) => j.metadata.namespace === si.metadata.namespace && j.metadata.labels?.[Labels.instance] === si.metadata.name)
    .sort((a, b) => String(b.status?.startTime ?? b.metadata.creationTimestamp).localeCompare(String(a.status?.startTime ?? a.metadata.creationTimestamp)));
}

type P<T extends string> = { Params: Record<T, string> };

export function backupRoutes(s: FastifyInstance, deps: ApiDeps): void {
  s.get<P<"organizationId" | "serviceId">>("/:organizationId/services/:serviceId/backups", async (req, reply) => {
    const si = serviceOf(deps, caller(deps, req, req.params.organizationId), req.params.serviceId);
    return ok(req, reply, backupsOf(deps, si).map((j) => backupView(j, si)));
  });
  s.get<P<"organizationId" | "serviceId" | "backupId">>("/:organizationId/services/:serviceId/backups/:backupId", async (req, reply) => {
    const si = serviceOf(deps, caller(deps, req, req.params.organizationId), req.params.serviceId);
    const job = backupsOf(deps, si).find((j) => j.metadata.uid === req.params.backupId.toLowerCase());
    if (!job) throw notFound(`Backup ${req.params.backupId} not found`);
    return ok(req, reply, backupView(job, si));
  });
}
