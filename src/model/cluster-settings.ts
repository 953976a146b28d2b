// The settings document of the cluster API (a team's ClusterSettings): its JSON Schema (served
// at GET /v1/schemas/settings.json), validation with ajv (defaults filled in), the typed view
// of a validated document, and how a job maps onto an App (each task group is one of its
// process types). Shared by the API (which validates what it writes) and the ClusterSettings
// reconciler (which converges what anyone wrote, kubectl included).
import { createHash } from "node:crypto";
import { Ajv } from "ajv";
import type { ErrorObject } from "ajv";
import type { KubeObject } from "../kube/resource.ts";
import type { Process } from "./kinds.ts";
import { Labels } from "./kinds.ts";

export const ClusterLabels = {
  /** On Secrets: the hash of the secret's ID (IDs may hold characters a label value may not). */
  secret: "berth.dev/cluster-secret",
  team: "berth.dev/team",
  /** On Apps converged from a team's settings. */
  job: Labels.clusterJob,
} as const;
export const ClusterAnnotations = {
  secretId: "berth.dev/secret-id",
  /** On Apps: {"<task group>": {"countInit": n, "countMax": n}} from the settings. */
  counts: "berth.dev/cluster-counts",
} as const;

export const secretIdHash = (id: string) => createHash("sha256").update(id).digest("hex");
/** The Secret (in Berth's namespace) holding a team's cluster API secret ID. */
export const secretObjectName = (team: string, id: string) => `cs-${team}-${secretIdHash(id).slice(0, 16)}`;
/** A team's secret's values, decoded, from its Secret object; undefined unless the Secret is that team's secret of that ID. */
export function teamSecretValues(s: KubeObject & { data?: Record<string, string> } | undefined, team: string, id: string): Record<string, string> | undefined {
  if (!s || s.metadata.annotations?.[ClusterAnnotations.secretId] !== id || s.metadata.labels?.[ClusterLabels.team] !== team) return undefined;
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}
/** The ConfigMap of a job's logger levels, mounted into its pods. */
export const loggersConfigMap = (job: string) => `${job}-loggers`;

export const LOG_LEVELS = ["debug", "info", "warning", "error", "fatal", "panic"] as const;
const NAME = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

export const settingsSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "settings.json",
  title: "Berth cluster settings",
  description: "The jobs of a team's cluster. Posting settings converges the jobs: each job is an App, each task group a process type whose count is its replica count.",
  type: "object",
  additionalProperties: false,
  properties: {
    jobs: {
      type: "array",
      default: [],
      maxItems: 100,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "image", "taskGroups"],
        properties: {
          name: { type: "string", pattern: NAME, maxLength: 40, description: "The job ID (the App's name)." },
          image: { type: "string", minLength: 1, maxLength: 512, description: "The image every task group runs." },
          env: { type: "object", default: {}, additionalProperties: { type: "string" }, propertyNames: { pattern: "^[A-Za-z_][A-Za-z0-9_]*$" } },
          secrets: { type: "array", default: [], items: { type: "string", minLength: 1 }, description: "IDs of secrets (/secrets/secret/{ID}) whose keys become private environment variables." },
          taskGroups: {
            type: "array",
            minItems: 1,
            maxItems: 20,
            items: {
              type: "object",
              additionalProperties: false,
              required: ["name"],
              properties: {
                name: { type: "string", pattern: NAME, maxLength: 40 },
                command: { type: "array", items: { type: "string" }, default: [] },
                port: { type: "integer", minimum: 1, maximum: 65535 },
                countInit: { type: "integer", minimum: 0, maximum: 1000, default: 1 },
                countMax: { type: "integer", minimum: 0, maximum: 1000, default: 5 },
              },
            },
          },
        },
      },
    },
    logLevel: { type: "string", enum: [...LOG_LEVELS], default: "info", description: "The default log level of every logger." },
  },
} as const;

export interface TaskGroupSettings {
  name: string;
  command: string[];
  port?: number;
  countInit: number;
  countMax: number;
}
export interface JobSettings {
  name: string;
  image: string;
  env: Record<string, string>;
  secrets: string[];
  taskGroups: TaskGroupSettings[];
}
export interface Settings {
  jobs: JobSettings[];
  logLevel: (typeof LOG_LEVELS)[number];
}

/** One failed rule: where in the document ("/jobs/0/taskGroups/1/countMax") and which rule ("maximum"). */
export interface SettingsError {
  path: string;
  rule: string;
  message: string;
}

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: true });
const check = ajv.compile(settingsSchema);

const describe = (e: ErrorObject): SettingsError => ({
  path: e.instancePath || "/",
  rule: e.keyword,
  message: `${e.instancePath || "/"} ${e.message ?? "is invalid"}${e.keyword === "additionalProperties" ? `: ${String((e.params as { additionalProperty?: string }).additionalProperty)}` : ""}`,
});

/** Validates (filling defaults into a copy) and checks what a JSON Schema cannot say; errors name the path and rule. */
export function validateSettings(input: unknown): { settings: Settings; errors: [] } | { settings?: undefined; errors: SettingsError[] } {
  const doc: unknown = structuredClone(input ?? {});
  if (!check(doc)) return { errors: (check.errors ?? []).map(describe) };
  const settings = doc as unknown as Settings;
  const errors: SettingsError[] = [];
  const jobNames = new Set<string>();
  settings.jobs.forEach((job, i) => {
    if (jobNames.has(job.name)) errors.push({ path: `/jobs/${i}/name`, rule: "uniqueName", message: `/jobs/${i}/name ${job.name} is used by another job` });
    jobNames.add(job.name);
    const groups = new Set<string>();
    job.taskGroups.forEach((g, j) => {
      const at = `/jobs/${i}/taskGroups/${j}`;
      if (groups.has(g.name)) errors.push({ path: `${at}/name`, rule: "uniqueName", message: `${at}/name ${g.name} is used by another task group of job ${job.name}` });
      groups.add(g.name);
      if (g.countInit > g.countMax) errors.push({ path: `${at}/countInit`, rule: "countInit<=countMax", message: `${at}/countInit must be at most countMax (${g.countMax})` });
    });
  });
  return errors.length ? { errors } : { settings, errors: [] };
}

/** The default settings: the empty document with every default filled. */
export function defaultSettings(): Settings {
  const r = validateSettings({});
  if (!r.settings) throw new Error("the settings schema rejects the empty document");
  return r.settings;
}

/** The counts annotation of a job's App. */
export const countsOf = (job: JobSettings) => JSON.stringify(Object.fromEntries(job.taskGroups.map((g) => [g.name, { countInit: g.countInit, countMax: g.countMax }])));

/** The processes of a job's App: counts kept where they are (clamped to countMax), countInit for new task groups. */
export function jobProcesses(job: JobSettings, current: Process[] | undefined): Process[] {
  return job.taskGroups.map((g) => {
    const had = current?.find((p) => p.name === g.name);
    const replicas = Math.min(had?.replicas ?? g.countInit, g.countMax);
    return { name: g.name, replicas, ...(g.command.length ? { command: g.command } : {}), ...(g.port ? { ports: [{ port: g.port }] } : {}) };
  });
}

/** Default logger levels (loggerID -> leaf -> level) as loggers ConfigMap keys (`default_<loggerID>_<leaf>`). */
export function defaultLoggerKeys(loggers: Record<string, Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [logger, leaves] of Object.entries(loggers ?? {})) for (const [leaf, level] of Object.entries(leaves)) out[`default_${logger}_${leaf}`] = level;
  return out;
}
