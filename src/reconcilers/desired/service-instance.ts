// Pure functions for a ServiceInstance's lifecycle: replicas and autoscaling from state and
// memory bounds, the phase the cloud API reports, which credentials the instance gets (kept,
// generated, or taken from the API's password request), and the backup CronJob.
import type { KubeObject } from "../../kube/resource.ts";
import type { ServiceClass, ServiceInstance, ServicePhase } from "../../model/kinds.ts";
import type { PodPlacement } from "./workloads.ts";
import { Labels } from "../../model/kinds.ts";

/** Annotation on the credentials Secret: which rotation / password request produced it. */
export const CREDENTIALS_STAMP = "berth.dev/password-rotation";
/** Annotation on the API's password-request Secret: the spec.passwordRequest it answers. */
export const PASSWORD_REQUEST = "berth.dev/password-request";
export const passwordRequestSecretName = (instance: string) => `${instance}-password-request`;
export const backupCronJobName = (instance: string) => `${instance}-backup`;

/** Idle scaling holds the instance at zero: it went idle and no awake (or start) came since. */
export function isIdle(si: ServiceInstance): boolean {
  const idle = si.status?.idle;
  return si.spec.state !== "Stopped" && !!idle && idle.awakeRequest === (si.spec.awakeRequest ?? "");
}

/** Pods the instance runs: none when stopped or idle, else spec.scaling.numReplicas (at least one). */
export function instanceReplicas(si: ServiceInstance): number {
  if (si.spec.state === "Stopped" || isIdle(si)) return 0;
  return Math.max(1, Math.floor(si.spec.scaling?.numReplicas ?? 1));
}

/** Idle scaling is on (the cloud API's default) and the class tells how long an instance has been unused. */
export const idleScalingApplies = (si: ServiceInstance, cls: ServiceClass): boolean => !!cls.spec.activityPath && (si.spec.scaling?.idleScaling ?? true);

export const DEFAULT_IDLE_TIMEOUT_MINUTES = 15;

/**
 * Whether a running instance unused for idleSeconds (the least of its pods') goes idle now, or
 * when to look again: its idle timeout (minutes of minuteMs; a minute in production, shorter in tests).
 */
export function idleDecision(si: ServiceInstance, idleSeconds: number, minuteMs: number): { idle: true } | { recheckMs: number } {
  const timeoutMs = (si.spec.scaling?.idleTimeoutMinutes ?? DEFAULT_IDLE_TIMEOUT_MINUTES) * minuteMs;
  const idleMs = Math.max(0, idleSeconds) * 1000;
  if (idleMs >= timeoutMs) return { idle: true };
  return { recheckMs: Math.max(1000, Math.ceil(timeoutMs - idleMs)) };
}

export const DATA_DIR = "DATA_DIR";
export const BACKUP_DIR = "/backup";

/** The instance's data directory on its node: <hostPath>/<namespace>/<uid> (a new instance of the same name starts empty). */
export function dataVolume(si: ServiceInstance, cls: ServiceClass, readOnly = false): { volume: object; mount: object; env: { name: string; value: string } } | undefined {
  const st = cls.spec.storage;
  if (!st) return undefined;
  return {
    volume: { name: "data", hostPath: { path: `${st.hostPath.replace(/\/+$/, "")}/${si.metadata.namespace}/${si.metadata.uid}`, type: "DirectoryOrCreate" } },
    mount: { name: "data", mountPath: st.mountPath, ...(readOnly ? { readOnly } : {}) },
    env: { name: DATA_DIR, value: st.mountPath },
  };
}

/** Where the class's backups are: its claim, or <hostPath>/<namespace> on the node, mounted at /backup. */
export function backupVolume(si: ServiceInstance, cls: ServiceClass, readOnly = false): { volume: object; mount: object } | undefined {
  const b = cls.spec.backup;
  const source = b?.claimName
    ? { persistentVolumeClaim: { claimName: b.claimName, ...(readOnly ? { readOnly } : {}) } }
    : b?.hostPath
      ? { hostPath: { path: `${b.hostPath.replace(/\/+$/, "")}/${si.metadata.namespace}`, type: "DirectoryOrCreate" } }
      : undefined;
  return source && { volume: { name: "backup", ...source }, mount: { name: "backup", mountPath: BACKUP_DIR, ...(readOnly ? { readOnly } : {}) } };
}

/** For an instance created from a backup: the class's restore command, before the service starts, over the data directory. */
export function restoreInitContainer(si: ServiceInstance, cls: ServiceClass): { container: object; backupVolume: object } | undefined {
  const b = cls.spec.backup;
  const data = dataVolume(si, cls);
  const backup = backupVolume(si, cls, true);
  if (!si.spec.restoreFrom || !b?.restoreCommand?.length || !data || !backup) return undefined;
  return {
    container: {
      name: "restore",
      image: b.image,
      command: b.restoreCommand,
      env: [{ name: "RESTORE_FROM_BACKUP", value: si.spec.restoreFrom }, { name: "BACKUP_DIR", value: BACKUP_DIR }, data.env],
      volumeMounts: [data.mount, backup.mount],
    },
    backupVolume: backup.volume,
  };
}

/**
 * The memory bounds as a replica policy: replicas hold minTotalMemoryGb between them, and may grow
 * (an HPA on memory utilization) up to maxTotalMemoryGb, in the same proportion. Only for
 * production services whose maximum exceeds their minimum, and never while stopped.
 */
export function replicaRange(si: ServiceInstance): { min: number; max: number } | undefined {
  const s = si.spec.scaling;
  const replicas = instanceReplicas(si);
  if (replicas === 0 || (si.spec.tier ?? "production") !== "production" || !s?.minTotalMemoryGb || !s.maxTotalMemoryGb) return undefined;
  if (s.maxTotalMemoryGb <= s.minTotalMemoryGb) return undefined;
  return { min: replicas, max: Math.ceil((replicas * s.maxTotalMemoryGb) / s.minTotalMemoryGb) };
}

export function desiredInstanceHpa(si: ServiceInstance, workloadKind: "Deployment" | "StatefulSet"): KubeObject | undefined {
  const range = replicaRange(si);
  if (!range) return undefined;
  const name = si.metadata.name ?? "";
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name, namespace: si.metadata.namespace, labels: { [Labels.instance]: name, [Labels.managedBy]: "berth" } },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: workloadKind, name },
      minReplicas: range.min,
      maxReplicas: range.max,
      metrics: [{ type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } }],
    },
  };
}

/**
 * The state the cloud API shows, from the spec and what the workload reports: stopped and
 * stopping follow a stop; a service never ready since it was created is provisioning; one
 * coming back from stopped is starting.
 */
export function servicePhase(si: ServiceInstance, workload: { replicas?: number; readyReplicas?: number } | undefined): ServicePhase {
  if (si.metadata.deletionTimestamp) return "terminating";
  const ready = workload?.readyReplicas ?? 0;
  const want = instanceReplicas(si);
  const previous = si.status?.state;
  if (isIdle(si)) return "idle";
  if (want === 0) return ready > 0 || (workload?.replicas ?? 0) > 0 ? "stopping" : "stopped";
  if (workload && ready >= want) return "running";
  if (previous === "stopped" || previous === "stopping" || previous === "starting" || previous === "idle") return "starting";
  if (previous === "running") return "running"; // a rollout (new password, scaling) keeps serving
  return "provisioning";
}

export type CredentialsDecision =
  | { action: "keep" }
  | { action: "wait"; reason: string }
  | { action: "write"; stamp: string; creds: Record<string, string> };

/**
 * Which credentials the instance should have. The stamp on the credentials Secret says what
 * produced them: a password request ("request:<id>") wins over a rotation ("<rotation>"). A
 * request whose Secret has not arrived yet waits; a password request may carry a password or
 * only its hashes (sha256 base64 and MySQL's double SHA-1), stored as given.
 */
export function credentialsDecision(
  si: ServiceInstance,
  base: { HOST: string; PORT: string; USERNAME: string; INSTANCE: string },
  existing: { stamp: string; data: Record<string, string> } | undefined,
  request: { id: string; data: Record<string, string> } | undefined,
  generate: () => string,
): CredentialsDecision {
  const want = si.spec.passwordRequest ? `request:${si.spec.passwordRequest}` : (si.spec.passwordRotation ?? "");
  if (existing && existing.stamp === want) return { action: "keep" };
  if (si.spec.passwordRequest) {
    if (!request || request.id !== si.spec.passwordRequest) return { action: "wait", reason: `waiting for Secret ${passwordRequestSecretName(si.metadata.name ?? "")} with the requested password` };
    const r = request.data;
    const creds: Record<string, string> = { ...base, PASSWORD: r.PASSWORD ?? "" };
    if (r.PASSWORD_SHA256_BASE64) creds.PASSWORD_SHA256_BASE64 = r.PASSWORD_SHA256_BASE64;
    if (r.PASSWORD_DOUBLE_SHA1_HEX) creds.PASSWORD_DOUBLE_SHA1_HEX = r.PASSWORD_DOUBLE_SHA1_HEX;
    return { action: "write", stamp: want, creds };
  }
  return { action: "write", stamp: want, creds: { ...base, PASSWORD: generate() } };
}

/** The backup CronJob of an instance whose class configures backups (suspended while it is stopped), placed like the instance. */
export function desiredBackupCronJob(si: ServiceInstance, cls: ServiceClass, credentialsSecret: string, placement: PodPlacement = {}): KubeObject | undefined {
  const b = cls.spec.backup;
  if (!b) return undefined;
  const name = si.metadata.name ?? "";
  const labels = { [Labels.instance]: name, [Labels.backup]: "true", [Labels.managedBy]: "berth" };
  const keys = ["HOST", "PORT", "USERNAME", "PASSWORD"];
  // The backup reads the instance's data directory (read-only) and writes to the backup location.
  const data = dataVolume(si, cls, true);
  const mounts = [backupVolume(si, cls), data].filter((v) => v !== undefined);
  const container = {
    name: "backup",
    image: b.image,
    command: b.command,
    env: [
      ...keys.map((k) => ({ name: k, valueFrom: { secretKeyRef: { name: credentialsSecret, key: k, optional: true } } })),
      { name: "SERVICE_INSTANCE", value: name },
      { name: "BACKUP_DIR", value: BACKUP_DIR },
      { name: "BACKUP_ID", valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/controller-uid']" } } },
      ...(data ? [data.env] : []),
    ],
    ...(mounts.length ? { volumeMounts: mounts.map((v) => v.mount) } : {}),
  };
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: backupCronJobName(name), namespace: si.metadata.namespace, labels },
    spec: {
      schedule: b.schedule ?? "0 3 * * *",
      suspend: si.spec.state === "Stopped",
      concurrencyPolicy: "Forbid",
      successfulJobsHistoryLimit: 7,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: 1,
          template: {
            metadata: { labels },
            spec: { restartPolicy: "Never", containers: [container], ...placement, ...(mounts.length ? { volumes: mounts.map((v) => v.volume) } : {}) },
          },
        },
      },
    },
  };
}

/** A backup Job's status as the cloud API words it. */
export function backupStatus(job: { status?: { succeeded?: number; failed?: number; conditions?: { type: string; status: string }[] } }): "done" | "error" | "in_progress" {
  const cond = (t: string) => job.status?.conditions?.some((c) => c.type === t && c.status === "True");
  if (cond("Complete") || (job.status?.succeeded ?? 0) > 0) return "done";
  if (cond("Failed")) return "error";
  return "in_progress";
}
