// ServiceInstance reconciler: a credentials Secret (a generated password, or the one the API
// asked for), the instance's workload (Deployment or StatefulSet, replicas from its state and
// scaling) and Service, a NetworkPolicy from the IP access list, an HPA from its memory bounds
// and a backup CronJob when its class configures backups. Its pods (and backups) run where its
// namespace's pool places pods. Idle scaling: when the class reports how long an instance has been
// unused, a running instance idle for its timeout scales to zero (status.idle) until an awake.
// While apps bind the instance, a finalizer holds its deletion and the status says which apps block it.
import { createHash, randomBytes } from "node:crypto";
import { CREDENTIALS_STAMP, PASSWORD_REQUEST, backupCronJobName, credentialsDecision, dataVolume, desiredBackupCronJob, desiredInstanceHpa, idleDecision, idleScalingApplies, instanceReplicas, isIdle, passwordRequestSecretName, restoreInitContainer, servicePhase } from "./desired/service-instance.ts";
import type { PodPlacement } from "./desired/workloads.ts";
import { poolPlacement } from "./desired/workloads.ts";
import { poolNamespace } from "./pool.ts";
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject } from "../kube/resource.ts";
import { Types } from "../kube/resource.ts";
import type { App, Pool, ServiceClass, ServiceInstance } from "../model/kinds.ts";
import { BerthTypes, Labels } from "../model/kinds.ts";
import { applyIfChanged } from "../runtime/apply-if-changed.ts";
import { setCondition } from "../runtime/conditions.ts";
import type { InformerFactory } from "../runtime/informer.ts";
import { canonicalJSON, updateStatus, withOwner } from "../runtime/status.ts";
import type { ObjectKey, ReconcileResult, Reconciler } from "../runtime/types.ts";
import { PermanentError } from "../runtime/types.ts";

export const IN_USE_FINALIZER = "berth.dev/bound-apps";
type Workload = KubeObject & { spec?: { replicas?: number }; status?: { replicas?: number; readyReplicas?: number } };
type SecretObj = KubeObject & { data?: Record<string, string> };

export const credentialsSecretName = (instance: string) => `${instance}-credentials`;

export function desiredInstanceObjects(si: ServiceInstance, cls: ServiceClass, creds: Record<string, string>, placement: PodPlacement = {}): KubeObject[] {
  const name = si.metadata.name ?? "";
  const ns = si.metadata.namespace;
  const labels = { [Labels.instance]: name, [Labels.managedBy]: "berth" };
  const plan = cls.spec.plans.find((p) => p.name === si.spec.plan) ?? cls.spec.plans[0];
  // Credentials never appear as literal values in the workload: each is an env var read from
  // the credentials Secret, and the class's templates refer to those with Kubernetes' own
  // $(VAR) expansion, done by the kubelet when the container starts.
  const secretName = credentialsSecretName(name);
  const credentialVar = (k: string) => `BERTH_CREDENTIAL_${k}`;
  const keys = Object.keys(creds).sort();
  const refer = (v: string) => v.replace(/\$\(([A-Z_]+)\)/g, (m: string, k: string) => (k in creds ? `$(${credentialVar(k)})` : m));
  const env = [
    ...keys.map((k) => ({ name: credentialVar(k), valueFrom: { secretKeyRef: { name: secretName, key: k } } })),
    ...(cls.spec.env ?? []).map((e) => ({ name: e.name, value: refer(e.value) })),
    ...Object.entries(si.spec.parameters ?? {}).map(([k, v]) => ({ name: `PARAM_${k.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}`, value: v })),
    ...(si.spec.restoreFrom ? [{ name: "RESTORE_FROM_BACKUP", value: si.spec.restoreFrom }] : []),
  ];
  const data = dataVolume(si, cls);
  if (data) env.push(data.env);
  const restore = restoreInitContainer(si, cls);
  const resources = plan?.cpu || plan?.memory ? { requests: { ...(plan.cpu ? { cpu: plan.cpu } : {}), ...(plan.memory ? { memory: plan.memory } : {}) }, limits: { ...(plan.memory ? { memory: plan.memory } : {}) } } : undefined;
  const podSpec = {
    // A new password (rotation) rolls the pods: the template changes with the credentials' hash.
    metadata: { labels, annotations: { "berth.dev/credentials-hash": createHash("sha256").update(canonicalJSON(creds)).digest("hex").slice(0, 16) } },
    spec: {
      ...placement,
      ...(restore ? { initContainers: [restore.container] } : {}),
      containers: [
        {
          name: "service",
          image: cls.spec.image,
          ...(cls.spec.command?.length ? { command: cls.spec.command.map(refer) } : {}),
          ports: [{ name: "service", containerPort: cls.spec.port }],
          env,
          ...(resources ? { resources } : {}),
          ...(data ? { volumeMounts: [data.mount] } : {}),
        },
      ],
      ...(data ? { volumes: [data.volume, ...(restore ? [restore.backupVolume] : [])] } : {}),
    },
  };
  const replicas = instanceReplicas(si);
  const statefulSet = cls.spec.workload === "StatefulSet";
  const workload = statefulSet
    ? { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name, namespace: ns, labels }, spec: { replicas, serviceName: name, selector: { matchLabels: labels }, template: podSpec } }
    : // One server at a time over a data directory: the old pod stops before the new one starts.
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: ns, labels }, spec: { replicas, selector: { matchLabels: labels }, ...(data ? { strategy: { type: "Recreate" } } : {}), template: podSpec } };
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns, labels },
    spec: { selector: labels, ports: [{ name: "service", port: cls.spec.port, targetPort: cls.spec.port }] },
  };
  const policy = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: ns, labels },
    spec: {
      podSelector: { matchLabels: labels },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ podSelector: {} }, ...(si.spec.ipAccessList ?? []).map((e) => ({ ipBlock: { cidr: e.source.includes("/") ? e.source : `${e.source}/${e.source.includes(":") ? 128 : 32}` } }))],
          ports: [{ port: cls.spec.port, protocol: "TCP" }],
        },
      ],
    },
  };
  return [workload, service, policy].map((o) => withOwner(o as KubeObject, si));
}

type Pod = KubeObject & { status?: { phase?: string; conditions?: { type: string; status: string }[] } };

export class ServiceInstanceReconciler implements Reconciler {
  /** minuteMs: how long a minute of idleTimeoutMinutes lasts (a minute; shorter only in tests). */
  constructor(
    private readonly client: KubeClient,
    private readonly informers: InformerFactory,
    private readonly minuteMs = 60_000,
  ) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult | void> {
    const si = this.informers.informerFor<ServiceInstance>(BerthTypes.ServiceInstance).store.get(`${key.namespace}/${key.name}`);
    if (!si) return;
    const bound = this.informers
      .informerFor<App>(BerthTypes.App)
      .store.byIndex("binding", `${key.namespace}/${key.name}`)
      .map((a) => a.metadata.name ?? "")
      .sort();
    const gen = si.metadata.generation;
    const hasFinalizer = si.metadata.finalizers?.includes(IN_USE_FINALIZER) ?? false;
    if (si.metadata.deletionTimestamp) {
      if (bound.length) {
        await updateStatus(this.client, BerthTypes.ServiceInstance, si, {
          ...si.status,
          boundApps: bound.join(","),
          conditions: setCondition(si.status?.conditions, {
            type: "Ready",
            status: "False",
            reason: "DeletionBlocked",
            message: `still bound to apps ${bound.join(", ")}: unbind them to finish deleting`,
            observedGeneration: gen,
          }),
        });
        return;
      }
      if (hasFinalizer) await this.client.mergePatch(BerthTypes.ServiceInstance, key.namespace, key.name, { metadata: { finalizers: (si.metadata.finalizers ?? []).filter((f) => f !== IN_USE_FINALIZER) } });
      return;
    }
    if (!hasFinalizer) {
      await this.client.mergePatch(BerthTypes.ServiceInstance, key.namespace, key.name, {
        metadata: { finalizers: [...(si.metadata.finalizers ?? []), IN_USE_FINALIZER], resourceVersion: si.metadata.resourceVersion },
      });
      return; // the update event brings us back
    }
    const cls = this.informers.informerFor<ServiceClass>(BerthTypes.ServiceClass).store.get(si.spec.serviceClass);
    if (!cls) {
      await updateStatus(this.client, BerthTypes.ServiceInstance, si, {
        ...si.status,
        conditions: setCondition(si.status?.conditions, { type: "Ready", status: "False", reason: "ServiceClassNotFound", message: `service class "${si.spec.serviceClass}" does not exist`, observedGeneration: gen }),
      });
      return;
    }
    if (si.spec.plan && !cls.spec.plans.some((p) => p.name === si.spec.plan)) {
      throw new PermanentError(`plan "${si.spec.plan}" is not one of ${cls.metadata.name}'s plans`);
    }
    const creds = await this.credentials(si, cls);
    if ("wait" in creds) {
      await updateStatus(this.client, BerthTypes.ServiceInstance, si, {
        ...si.status,
        state: si.status?.state ?? "provisioning",
        conditions: setCondition(si.status?.conditions, { type: "Ready", status: "False", reason: "WaitingForPassword", message: creds.wait, observedGeneration: gen }),
      });
      return { requeueAfterMs: 1000 };
    }
    const pool = this.informers
      .informerFor<Pool>(BerthTypes.Pool)
      .store.list()
      .find((p) => poolNamespace(p) === key.namespace);
    const placement = poolPlacement(pool);
    const objs = desiredInstanceObjects(si, cls, creds, placement);
    const workloadKind = cls.spec.workload === "StatefulSet" ? "StatefulSet" : "Deployment";
    const types = [workloadKind === "StatefulSet" ? Types.StatefulSet : Types.Deployment, Types.Service, Types.NetworkPolicy];
    for (const [i, o] of objs.entries()) await applyIfChanged(this.client, types[i]!, o, undefined);
    await this.applyOrDelete(Types.HorizontalPodAutoscaler, key.namespace, key.name, desiredInstanceHpa(si, workloadKind), si);
    await this.applyOrDelete(Types.CronJob, key.namespace, backupCronJobName(key.name), desiredBackupCronJob(si, cls, credentialsSecretName(key.name), placement), si);
    const workload = await this.client.getOrUndefined<Workload>(types[0]!, key.namespace, key.name);
    const want = instanceReplicas(si);
    const phase = servicePhase(si, workload ? { replicas: workload.status?.replicas ?? workload.spec?.replicas, readyReplicas: workload.status?.readyReplicas } : undefined);
    const ready = phase === "running" || phase === "stopped" || phase === "idle";
    // An idle mark outlives neither a stop nor an awake.
    const idle = isIdle(si) ? si.status?.idle : undefined;
    await updateStatus(this.client, BerthTypes.ServiceInstance, si, {
      ...(idle ? { idle } : {}),
      observedGeneration: gen,
      secretName: credentialsSecretName(key.name),
      endpoint: `${creds.HOST}:${creds.PORT}`,
      boundApps: bound.join(","),
      state: phase,
      readyReplicas: workload?.status?.readyReplicas ?? 0,
      conditions: setCondition(si.status?.conditions, {
        type: "Ready",
        status: ready ? "True" : "False",
        reason: ready ? (want ? "Running" : idle ? "Idle" : "Stopped") : phase === "stopping" ? "Stopping" : "Starting",
        message: ready
          ? want
            ? `serving at ${creds.HOST}:${creds.PORT}`
            : idle
              ? `idle since ${idle.since}: scaled to zero; awake starts it`
              : "stopped: no pods run"
          : phase === "stopping"
            ? "waiting for the pods to stop"
            : "waiting for the instance to start",
        observedGeneration: gen,
      }),
    });
    if (!ready) return { requeueAfterMs: 2000 };
    if (phase === "running" && idleScalingApplies(si, cls)) return this.idleCheck(si, cls);
  }

  /** Scales a running instance unused for its idle timeout to zero (status.idle), or says when to look again. */
  private async idleCheck(si: ServiceInstance, cls: ServiceClass): Promise<ReconcileResult | void> {
    const idleSeconds = await this.idleSeconds(si, cls);
    if (idleSeconds === undefined) return { requeueAfterMs: Math.min(this.minuteMs, 30_000) };
    const decision = idleDecision(si, idleSeconds, this.minuteMs);
    if ("recheckMs" in decision) return { requeueAfterMs: decision.recheckMs };
    const fresh = this.informers.informerFor<ServiceInstance>(BerthTypes.ServiceInstance).store.get(`${si.metadata.namespace}/${si.metadata.name}`) ?? si;
    await updateStatus(this.client, BerthTypes.ServiceInstance, fresh, {
      ...fresh.status,
      idle: { since: new Date().toISOString(), awakeRequest: si.spec.awakeRequest ?? "" },
      state: "idle",
    });
    // The status event brings us back to scale the workload to zero.
  }

  /**
   * Seconds since the instance last served a query: the least its ready pods report on the class's
   * activityPath, read through the API server's pod proxy (undefined when no pod answers).
   */
  private async idleSeconds(si: ServiceInstance, cls: ServiceClass): Promise<number | undefined> {
    const ns = si.metadata.namespace ?? "";
    const pods = await this.client.list<Pod>(Types.Pod, { namespace: ns, labelSelector: `${Labels.instance}=${si.metadata.name}` });
    const ready = pods.items.filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
    const seen: number[] = [];
    for (const p of ready) {
      try {
        const text = await this.client.requestText(`/api/v1/namespaces/${ns}/pods/${p.metadata.name}:${cls.spec.port}/proxy${cls.spec.activityPath ?? ""}`);
        const v = (JSON.parse(text) as { idleSeconds?: unknown }).idleSeconds;
        if (typeof v === "number" && Number.isFinite(v)) seen.push(v);
      } catch {
        // A pod that does not answer (starting, restarting) says nothing about use.
      }
    }
    return seen.length ? Math.min(...seen) : undefined;
  }

  /** Applies desired when there is one, else deletes what an earlier spec made (ours only). */
  private async applyOrDelete(type: typeof Types.CronJob, ns: string | undefined, name: string, desired: KubeObject | undefined, si: ServiceInstance): Promise<void> {
    if (desired) {
      await applyIfChanged(this.client, type, withOwner(desired, si), undefined);
      return;
    }
    const existing = await this.client.getOrUndefined(type, ns, name);
    if (existing?.metadata.ownerReferences?.some((r) => r.uid === si.metadata.uid)) await this.client.delete(type, ns, name).catch(() => undefined);
  }

  /**
   * The credentials Secret: kept while its stamp matches the spec; otherwise a new password
   * (a rotation) or the one the API asked for (spec.passwordRequest, read from its request Secret).
   */
  private async credentials(si: ServiceInstance, cls: ServiceClass): Promise<Record<string, string> | { wait: string }> {
    const name = credentialsSecretName(si.metadata.name ?? "");
    const ns = si.metadata.namespace;
    const decode = (d: Record<string, string> = {}) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
    const existing = await this.client.getOrUndefined<SecretObj>(Types.Secret, ns, name);
    const request = si.spec.passwordRequest ? await this.client.getOrUndefined<SecretObj>(Types.Secret, ns, passwordRequestSecretName(si.metadata.name ?? "")) : undefined;
    const mine = (s: SecretObj | undefined) => (s && s.metadata.ownerReferences?.some((r) => r.uid === si.metadata.uid) ? s : undefined);
    const base = { HOST: `${si.metadata.name}.${ns}.svc`, PORT: String(cls.spec.port), USERNAME: cls.spec.username ?? si.metadata.name ?? "", INSTANCE: si.metadata.name ?? "" };
    const decision = credentialsDecision(
      si,
      base,
      existing ? { stamp: existing.metadata.annotations?.[CREDENTIALS_STAMP] ?? "", data: decode(existing.data) } : undefined,
      mine(request) ? { id: request?.metadata.annotations?.[PASSWORD_REQUEST] ?? "", data: decode(request?.data) } : undefined,
      () => randomBytes(18).toString("base64url"),
    );
    if (decision.action === "keep") return decode(existing?.data);
    if (decision.action === "wait") return { wait: decision.reason };
    const secret = withOwner(
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: ns, labels: { [Labels.instance]: si.metadata.name ?? "", [Labels.managedBy]: "berth" }, annotations: { [CREDENTIALS_STAMP]: decision.stamp } },
        type: "Opaque",
        data: Object.fromEntries(Object.entries(decision.creds).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
      },
      si,
    );
    await this.client.apply(Types.Secret, secret, "berth-controller", { force: true });
    return decision.creds;
  }
}
