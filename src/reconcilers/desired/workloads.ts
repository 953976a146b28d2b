// Pure functions from an App, its current Release, Pool and Plan to the Kubernetes objects
// that run it: a Deployment and (with ports) a Service per process, an HPA, PDBs, an Ingress.
import type { KubeObject } from "../../kube/resource.ts";
import type { App, Plan, Pool, Process, Release } from "../../model/kinds.ts";
import { Labels } from "../../model/kinds.ts";
import { withOwner } from "../../runtime/status.ts";

export interface Placement {
  pool?: Pool;
  plan?: Plan;
}

export const workloadName = (app: string, process: string) => `${app}-${process}`;

export function selectorLabels(app: string, process: string): Record<string, string> {
  return { [Labels.app]: app, [Labels.process]: process };
}

function commonLabels(app: string, process: string): Record<string, string> {
  return {
    ...selectorLabels(app, process),
    "app.kubernetes.io/name": app,
    "app.kubernetes.io/component": process,
    [Labels.managedBy]: "berth",
  };
}

/** The process that autoscaling, domains and the app's URL refer to: "web", or the first one. */
export function primaryProcess(processes: readonly Process[]): Process | undefined {
  return processes.find((p) => p.name === "web") ?? processes[0];
}

export function autoscaledProcess(app: App): string | undefined {
  const a = app.spec.autoscaling;
  if (!a) return undefined;
  return a.process ?? primaryProcess(app.spec.processes)?.name;
}

export function desiredReplicas(app: App, process: Process): number {
  if (app.spec.state === "Stopped" || app.spec.state === "Sleeping") return 0;
  return process.replicas ?? 1;
}

function probe(process: Process): object | undefined {
  const hc = process.healthCheck;
  const port = process.ports?.[0]?.port;
  if (!hc || port === undefined) return undefined;
  const action = hc.path ? { httpGet: { path: hc.path, port } } : { tcpSocket: { port } };
  return { ...action, initialDelaySeconds: hc.initialDelaySeconds ?? 0, periodSeconds: hc.periodSeconds ?? 10, failureThreshold: hc.failureThreshold ?? 3 };
}

/** The process's own CPU/memory win over the plan's, field by field. */
function resourcesFor(process: Process, plan: Plan["spec"] | undefined): { resources?: object } {
  const cpu = process.resources?.cpu ?? plan?.cpu;
  const memory = process.resources?.memory ?? plan?.memory;
  if (!cpu && !memory) return {};
  const amounts = { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) };
  return { resources: { requests: amounts, limits: amounts } };
}

export type PodPlacement = { nodeSelector?: Record<string, string>; tolerations?: object[] };

/** Where a pool's pods may run: its node selector (over the pods' own) and tolerations. */
export function poolPlacement(pool: Pool | undefined, own?: Record<string, string>): PodPlacement {
  const p = pool?.spec;
  return {
    ...(p?.nodeSelector || own ? { nodeSelector: { ...own, ...p?.nodeSelector } } : {}),
    ...(p?.tolerations?.length ? { tolerations: p.tolerations } : {}),
  };
}

/** Where an app's pods may run: the pool's node selector (over the app's) and tolerations. */
export const podPlacement = (app: App, pool: Pool | undefined): PodPlacement => poolPlacement(pool, app.spec.nodeSelector);

/**
 * Where a cluster API job's pods find their logger levels: one file per level,
 * `<alloc>_<loggerID>_<leaf>` (this allocation, $BERTH_ALLOC) and `default_<loggerID>_<leaf>`.
 */
export const LOGGERS_MOUNT = "/etc/berth/loggers";

export function desiredDeployment(app: App, release: Release, process: Process, placement: Placement): KubeObject {
  const name = app.metadata.name ?? "";
  const version = `v${release.spec.version}`;
  const plan = placement.plan?.spec;
  const readiness = probe(process);
  const stopped = desiredReplicas(app, process) === 0;
  const hpaOwnsReplicas = !stopped && autoscaledProcess(app) === process.name;
  // Cluster API jobs read their logger levels from a ConfigMap that updates in place.
  const loggers = app.metadata.labels?.[Labels.clusterJob] === "true";
  return withOwner(
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: workloadName(name, process.name), namespace: app.metadata.namespace, labels: { ...commonLabels(name, process.name), [Labels.release]: version } },
      spec: {
        // With autoscaling, the HPA owns the replica count.
        ...(hpaOwnsReplicas ? {} : { replicas: desiredReplicas(app, process) }),
        revisionHistoryLimit: 2,
        selector: { matchLabels: selectorLabels(name, process.name) },
        template: {
          metadata: { labels: { ...commonLabels(name, process.name), [Labels.release]: version } },
          spec: {
            enableServiceLinks: false,
            containers: [
              {
                name: process.name,
                image: release.spec.image,
                ...(process.command?.length ? { command: process.command } : {}),
                ...(process.args?.length ? { args: process.args } : {}),
                ports: (process.ports ?? []).map((p, i) => ({ name: p.name ?? (i === 0 ? "http" : `port-${i}`), containerPort: p.port, protocol: p.protocol ?? "TCP" })),
                envFrom: [{ secretRef: { name: release.spec.envSecretName } }],
                env: [
                  { name: "BERTH_APP", value: name },
                  { name: "BERTH_PROCESS", value: process.name },
                  { name: "BERTH_RELEASE", value: version },
                  // What Deis apps read at run time (never part of their stored config).
                  { name: "DEIS_APP", value: name },
                  { name: "DEIS_RELEASE", value: version },
                  ...(process.ports?.[0] ? [{ name: "PORT", value: String(process.ports[0].port) }] : []),
                  ...(loggers ? [{ name: "BERTH_ALLOC", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] : []),
                ],
                ...(loggers ? { volumeMounts: [{ name: "berth-loggers", mountPath: LOGGERS_MOUNT, readOnly: true }] } : {}),
                ...resourcesFor(process, plan),
                ...(readiness ? { readinessProbe: readiness, livenessProbe: { ...readiness, initialDelaySeconds: 30 } } : {}),
              },
            ],
            ...podPlacement(app, placement.pool),
            ...(loggers ? { volumes: [{ name: "berth-loggers", configMap: { name: `${name}-loggers`, optional: true } }] } : {}),
          },
        },
      },
    },
    app,
  );
}

export function desiredService(app: App, process: Process): KubeObject | undefined {
  if (!process.ports?.length) return undefined;
  const name = app.metadata.name ?? "";
  return withOwner(
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: workloadName(name, process.name), namespace: app.metadata.namespace, labels: commonLabels(name, process.name) },
      spec: {
        type: "ClusterIP",
        selector: selectorLabels(name, process.name),
        ports: process.ports.map((p, i) => ({ name: p.name ?? (i === 0 ? "http" : `port-${i}`), port: p.port, targetPort: p.port, protocol: p.protocol ?? "TCP" })),
      },
    },
    app,
  );
}

export function desiredHPA(app: App): KubeObject | undefined {
  const a = app.spec.autoscaling;
  const process = autoscaledProcess(app);
  if (!a || !process || app.spec.state === "Stopped" || app.spec.state === "Sleeping") return undefined;
  const name = app.metadata.name ?? "";
  return withOwner(
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: workloadName(name, process), namespace: app.metadata.namespace, labels: commonLabels(name, process) },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: workloadName(name, process) },
        minReplicas: a.minReplicas,
        maxReplicas: a.maxReplicas,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: a.targetCPUUtilizationPercentage ?? 80 } } }],
      },
    },
    app,
  );
}

/** A PDB keeps one unit up during node drains, for processes that run more than one. */
export function desiredPDB(app: App, process: Process): KubeObject | undefined {
  const replicas = autoscaledProcess(app) === process.name ? (app.spec.autoscaling?.minReplicas ?? 1) : desiredReplicas(app, process);
  if (replicas <= 1) return undefined;
  const name = app.metadata.name ?? "";
  return withOwner(
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: workloadName(name, process.name), namespace: app.metadata.namespace, labels: commonLabels(name, process.name) },
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(name, process.name) } },
    },
    app,
  );
}

export function desiredIngress(app: App, pool: Pool | undefined): KubeObject | undefined {
  const domains = app.spec.domains ?? [];
  const web = primaryProcess(app.spec.processes);
  const port = web?.ports?.[0]?.port;
  if (!domains.length || !web || port === undefined) return undefined;
  const name = app.metadata.name ?? "";
  return withOwner(
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name, namespace: app.metadata.namespace, labels: commonLabels(name, web.name) },
      spec: {
        ...(pool?.spec.ingressClassName ? { ingressClassName: pool.spec.ingressClassName } : {}),
        ...(app.spec.tls ? { tls: [{ hosts: domains, secretName: app.spec.tls.secretName }] } : {}),
        rules: domains.map((host) => ({
          host,
          http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: workloadName(name, web.name), port: { number: port } } } }] },
        })),
      },
    },
    app,
  );
}

/** Where users reach the app: its domains, else the in-cluster address of its web Service. */
export function appURLs(app: App): string[] {
  if (app.spec.domains?.length) return app.spec.domains.map((d) => `${app.spec.tls ? "https" : "http"}://${d}`);
  const web = primaryProcess(app.spec.processes);
  const port = web?.ports?.[0]?.port;
  if (!web || port === undefined) return [];
  return [`http://${workloadName(app.metadata.name ?? "", web.name)}.${app.metadata.namespace}.svc:${port}`];
}
