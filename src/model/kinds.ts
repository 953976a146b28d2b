// Berth's custom resources (crds/): TypeScript shapes and resource types.
import type { KubeObject, ResourceType } from "../kube/resource.ts";
import type { Condition } from "../runtime/conditions.ts";

export const GROUP = "berth.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

const kind = (k: string, plural: string, namespaced: boolean): ResourceType => ({ group: GROUP, version: VERSION, kind: k, plural, namespaced });

export const BerthTypes = {
  App: kind("App", "apps", true),
  Release: kind("Release", "releases", true),
  Pool: kind("Pool", "pools", false),
  Plan: kind("Plan", "plans", false),
  Team: kind("Team", "teams", false),
  User: kind("User", "users", false),
  Role: kind("Role", "roles", false),
  Token: kind("Token", "tokens", true),
  ServiceClass: kind("ServiceClass", "serviceclasses", false),
  ServiceInstance: kind("ServiceInstance", "serviceinstances", true),
  Platform: kind("Platform", "platforms", false),
  Build: kind("Build", "builds", true),
  WaiterToken: kind("WaiterToken", "waitertokens", true),
  ClusterSettings: kind("ClusterSettings", "clustersettings", false),
} satisfies Record<string, ResourceType>;

/** Labels Berth puts on what it creates. */
export const Labels = {
  app: "berth.dev/app",
  process: "berth.dev/process",
  release: "berth.dev/release",
  instance: "berth.dev/service-instance",
  /** On a Job or CronJob: it backs up the service instance named by Labels.instance. */
  backup: "berth.dev/backup",
  pool: "berth.dev/pool",
  /** On Apps converged from a team's cluster API settings (their pods get the loggers ConfigMap). */
  clusterJob: "berth.dev/cluster-job",
  managedBy: "app.kubernetes.io/managed-by",
} as const;

/** Annotations a client sets on an App: who made the latest change (named in release summaries). */
export const Annotations = {
  actor: "berth.dev/actor",
  /** When the App last received a request through a proxy that records it (ISO-8601; written at most every few seconds): idle sleep reads it beside the router's own counters. */
  lastRequest: "berth.dev/last-request-time",
} as const;

export interface CommonStatus {
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface Port {
  name?: string;
  port: number;
  protocol?: "TCP" | "UDP";
}

export interface HealthCheck {
  path?: string;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
}

export interface Process {
  name: string;
  command?: string[];
  args?: string[];
  replicas?: number;
  ports?: Port[];
  healthCheck?: HealthCheck;
  resources?: { cpu?: string; memory?: string };
}

export interface EnvVar {
  name: string;
  value?: string;
}

export type AppState = "Running" | "Stopped" | "Sleeping";

export interface AppSpec {
  image: string;
  processes: Process[];
  env?: EnvVar[];
  privateEnvSecret?: string;
  nodeSelector?: Record<string, string>;
  plan?: string;
  pool?: string;
  owner?: string;
  teams?: string[];
  description?: string;
  tags?: string[];
  domains?: string[];
  tls?: { secretName: string };
  state?: AppState;
  /** Scale to zero: after timeoutMinutes without a request the router puts the App to Sleeping; a request wakes it. */
  idle?: { timeoutMinutes: number };
  autoscaling?: { process?: string; minReplicas: number; maxReplicas: number; targetCPUUtilizationPercentage?: number };
  serviceBindings?: { name: string }[];
  releaseHistoryLimit?: number;
  locked?: boolean;
  /** The Platform the latest source deploy was built on. */
  platform?: string;
}

export interface ProcessStatus {
  name: string;
  desired: number;
  ready: number;
  updated?: number;
}

export interface AppStatus extends CommonStatus {
  currentRelease?: string;
  currentReleaseVersion?: number;
  state?: AppState;
  readySummary?: string;
  urls?: string[];
  processes?: ProcessStatus[];
}

export type App = KubeObject & { spec: AppSpec; status?: AppStatus };

export interface ReleaseSpec {
  app: string;
  version: number;
  image: string;
  processes: Process[];
  envSecretName: string;
  envNames?: string[];
  publicEnvNames?: string[];
  privateEnvNames?: string[];
  contentHash: string;
  summary?: string;
  author?: string;
  rollbackOf?: number;
}

export type Release = KubeObject & { spec: ReleaseSpec; status?: CommonStatus };

export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface PoolSpec {
  namespace?: string;
  default?: boolean;
  public?: boolean;
  teams?: string[];
  plans?: string[];
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  quota?: { apps?: number; pods?: number; cpu?: string; memory?: string };
  ingressClassName?: string;
}

export type Pool = KubeObject & { spec: PoolSpec; status?: CommonStatus & { namespace?: string } };

export type Plan = KubeObject & { spec: { cpu: string; memory: string; default?: boolean; description?: string } };

export interface RoleBinding {
  role: string;
  contextType?: "global" | "team" | "app" | "pool";
  contextValue?: string;
}

export type Team = KubeObject & {
  spec: { displayName?: string; description?: string; tags?: string[]; quota?: { apps?: number } };
  /** organizationId: the team as an organization of the cloud API (its uid: a stable UUID). */
  status?: CommonStatus & { organizationId?: string };
};

/** Roles of a cloud API key in its organization (a Team). */
export const CLOUD_KEY_ROLES = ["admin", "developer", "read-only"] as const;
export type CloudKeyRole = (typeof CLOUD_KEY_ROLES)[number];

export interface UserSpec {
  email: string;
  username?: string;
  passwordSecretRef?: string;
  admin?: boolean;
  roles?: RoleBinding[];
  sshKeys?: { id: string; publicKey: string }[];
}
export type User = KubeObject & { spec: UserSpec };

export type Role = KubeObject & { spec: { contextType: string; description?: string; permissions?: string[]; defaultFor?: string } };

export interface TokenSpec {
  owner: { kind: "User" | "Team"; name: string };
  /** CloudKey: a cloud API key (HTTP Basic key id:secret), owned by a Team, one role of CLOUD_KEY_ROLES. */
  kind?: "Session" | "APIKey" | "Team" | "CloudKey";
  roles?: RoleBinding[];
  expires?: string;
  description?: string;
  tokenHash?: string;
}
export type Token = KubeObject & { spec: TokenSpec; status?: CommonStatus & { tokenHash?: string; secretName?: string; lastUsed?: string } };

export interface ServiceClassSpec {
  description?: string;
  documentation?: string;
  image: string;
  port: number;
  workload?: "Deployment" | "StatefulSet";
  env?: { name: string; value: string }[];
  bindEnv?: { name: string; value: string }[];
  username?: string;
  plans: { name: string; description?: string; cpu?: string; memory?: string; storage?: string }[];
  /** Backups of instances: a CronJob per instance runs this container with the instance's credentials. */
  backup?: ServiceClassBackup;
  /** The instance container's command (default: the image's entrypoint); $(VAR) expands as in env. */
  command?: string[];
  /** Where an instance keeps its data (DATA_DIR in its environment and in its backup and restore containers). */
  storage?: ServiceClassStorage;
  /**
   * An HTTP path on the instance's port that answers {"idleSeconds": N}: seconds since the last
   * query. With it, idle scaling is acted on (the controller reads it through the API server's pod proxy).
   */
  activityPath?: string;
}

export interface ServiceClassStorage {
  /** The data directory inside the instance container. */
  mountPath: string;
  /** A directory on the node: each instance gets <hostPath>/<namespace>/<instance uid> (single-node and local clusters). */
  hostPath: string;
}

export interface ServiceClassBackup {
  image: string;
  command: string[];
  /** Cron schedule (default: daily at 03:00). */
  schedule?: string;
  /** A PersistentVolumeClaim (in the instance's namespace) mounted at /backup; without it the command writes where it likes (an object store). */
  claimName?: string;
  /** A directory on the node: <hostPath>/<namespace> is mounted at /backup (single-node and local clusters). */
  hostPath?: string;
  /** Run (in the backup image) as an init container of an instance created from a backup: RESTORE_FROM_BACKUP, BACKUP_DIR, DATA_DIR. */
  restoreCommand?: string[];
}
export type ServiceClass = KubeObject & { spec: ServiceClassSpec };

export interface ServiceInstanceSpec {
  serviceClass: string;
  plan?: string;
  owner?: string;
  teams?: string[];
  description?: string;
  tags?: string[];
  state?: "Running" | "Stopped";
  parameters?: Record<string, string>;
  ipAccessList?: { source: string; description?: string }[];
  passwordRotation?: string;
  /**
   * The API's password request: the instance takes its password (or the password's hashes) from
   * Secret `<name>-password-request` whose berth.dev/password-request annotation equals this.
   */
  passwordRequest?: string;
  /** Name shown by the cloud API (any text; the object name must be DNS-safe). */
  displayName?: string;
  tier?: ServiceTier;
  provider?: string;
  region?: string;
  scaling?: ServiceScaling;
  /** Restore from this backup (a backup Job's uid) when the instance first starts. */
  restoreFrom?: string;
  /** Set by the API's awake (and start) command: an idle instance wakes when this differs from status.idle.awakeRequest. */
  awakeRequest?: string;
}

export type ServiceTier = "development" | "production";

export interface ServiceScaling {
  minTotalMemoryGb?: number;
  maxTotalMemoryGb?: number;
  numReplicas?: number;
  idleScaling?: boolean;
  idleTimeoutMinutes?: number;
}

/** What the cloud API reports as a service's state. */
export type ServicePhase = "provisioning" | "starting" | "running" | "stopping" | "stopped" | "idle" | "terminating";

export type ServiceInstance = KubeObject & {
  spec: ServiceInstanceSpec;
  status?: CommonStatus & { secretName?: string; endpoint?: string; boundApps?: string; state?: ServicePhase; readyReplicas?: number; idle?: ServiceIdle };
};

/** Set while idle scaling holds an instance at zero replicas. */
export interface ServiceIdle {
  /** When the controller scaled it to zero (RFC 3339). */
  since: string;
  /** spec.awakeRequest at that time: a new one wakes the instance. */
  awakeRequest: string;
}

/** How source deploys start from: a base image in the registry, where the files go, how the app starts. */
export interface PlatformSpec {
  image: string;
  /** The web process's command when the source has no Procfile (run by /bin/sh -c). */
  command?: string;
  workdir?: string;
  env?: EnvVar[];
  disabled?: boolean;
  description?: string;
}

export type Platform = KubeObject & { spec: PlatformSpec; status?: CommonStatus };

/** One source build: what went in, what came out, who asked, how long it took and what it said. */
export interface BuildSpec {
  app: string;
  /** The release version the build was made for. */
  version: number;
  platform: string;
  sourceDigest: string;
  image?: string;
  imageDigest?: string;
  author: string;
  startedAt: string;
  durationMs: number;
  phase: "Succeeded" | "Failed";
  message?: string;
  log?: string;
}

export type Build = KubeObject & { spec: BuildSpec };

/** A Waiter token (crds/berth.dev_waitertokens.yaml): service parameters and user metadata under Waiter's own key names. */
export interface WaiterTokenSpec {
  token: string;
  owner: string;
  deleted?: boolean;
  lastUpdateTime?: string;
  lastUpdateUser?: string;
  root?: string;
  cluster?: string;
  description: Record<string, unknown>;
  previous?: Record<string, unknown>;
}
export type WaiterToken = KubeObject & { spec: WaiterTokenSpec; status?: CommonStatus & { etag?: string } };

export type LogLevel = "debug" | "info" | "warning" | "error" | "fatal" | "panic";

export interface LogDefinition {
  id: string;
  group?: string;
  job?: string;
  task?: string;
  fileName?: string;
  logLevel?: boolean;
}

/** A team's cluster API state (the cluster API dialect): named after the team. */
export interface ClusterSettingsSpec {
  team: string;
  settings?: Record<string, unknown>;
  logs?: LogDefinition[];
  /** Default levels: logger ID -> logger leaf -> level. */
  loggers?: Record<string, Record<string, LogLevel>>;
  events?: { mapreduce?: Record<string, unknown>[] };
}
export type ClusterSettings = KubeObject & { spec: ClusterSettingsSpec; status?: CommonStatus };
