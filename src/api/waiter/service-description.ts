// From a token (and x-waiter-* header overrides) to a Waiter service description, and from
// that description to the App that runs it, as pure functions. The service-id is the content
// hash of the Release the App's controller will make (image, processes without replica
// counts, environment: src/reconcilers/desired/release.ts contentHash), so it is known before
// the App exists, is equal for equal descriptions on every cluster with the same default
// image, and has no "." in it (instance ids are "<service-id>.<pod>").
// Waiter's behaviour followed: twosigma/waiter:waiter/src/waiter/service_description.clj
// (token template + on-the-fly headers, run-as-user and permitted-user default to the
// requester), waiter/src/waiter/settings.clj (:service-description-defaults, :messages),
// waiter/src/waiter/scheduler/kubernetes.clj (default-replicaset-builder: PORT and PORT0..n,
// a pseudo-random port0 from the service's hash, readiness probe on health-check-url with
// failureThreshold 1).
import { createHash } from "node:crypto";
import type { AppSpec, Process } from "../../model/kinds.ts";
import { contentHash } from "../../reconcilers/desired/release.ts";
import { canonicalJSON } from "../../runtime/status.ts";
import { ApiError } from "../errors.ts";
import type { TokenData } from "./token-data.ts";
import { SERVICE_PARAMETER_KEYS, pick, validateParameters } from "./token-data.ts";

/** settings.clj :service-description-defaults (the parameters every service has unless set). */
export const DESCRIPTION_DEFAULTS: Readonly<TokenData> = {
  "allowed-params": [],
  authentication: "standard",
  "backend-proto": "http",
  "concurrency-level": 1,
  "distribution-scheme": "balanced",
  env: {},
  "expired-instance-restart-rate": 0.1,
  "grace-period-secs": 30,
  "health-check-interval-secs": 10,
  "health-check-max-consecutive-failures": 5,
  "health-check-port-index": 0,
  "health-check-url": "/status",
  "idle-timeout-mins": 30,
  "instance-expiry-mins": 7200,
  "interstitial-secs": 0,
  "jitter-threshold": 0.5,
  "load-balancing": "oldest",
  "max-instances": 500,
  "max-queue-length": 1000000,
  metadata: {},
  "metric-group": "other",
  "min-instances": 1,
  ports: 1,
  "restart-backoff-factor": 2,
  "scale-down-factor": 0.001,
  "scale-factor": 1,
  "scale-up-factor": 0.1,
};

/** settings.clj :messages :invalid-service-description. */
export const INVALID_DESCRIPTION = "Service description using waiter headers/token improperly configured";

/** Parameters whose x-waiter-<name> header value is a number. */
const NUMERIC = new Set([
  "concurrency-level", "cpus", "expired-instance-restart-rate", "grace-period-secs", "health-check-interval-secs", "health-check-max-consecutive-failures",
  "health-check-port-index", "idle-timeout-mins", "instance-expiry-mins", "interstitial-secs", "jitter-threshold", "max-instances", "max-queue-length",
  "mem", "min-instances", "ports", "restart-backoff-factor", "scale-down-factor", "scale-factor", "scale-up-factor",
]);

/** What a service needs before it can run (service_description.clj's schema: required keys). */
const REQUIRED = ["cmd", "cpus", "mem", "version"];

type Headers = Record<string, string | string[] | undefined>;
const header = (h: Headers, k: string): string | undefined => {
  const v = h[k];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * The on-the-fly parameters of a request: x-waiter-<parameter> headers (numbers parsed),
 * x-waiter-env-<NAME> and x-waiter-metadata-<key> (service_description.clj
 * prepare-service-description-template-from-headers).
 */
export function headerParameters(headers: Headers): TokenData {
  const out: TokenData = {};
  const env: Record<string, string> = {};
  const metadata: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    if (!name.startsWith("x-waiter-")) continue;
    const key = name.slice("x-waiter-".length);
    const value = header(headers, name) ?? "";
    if (key.startsWith("env-")) env[key.slice(4).toUpperCase()] = value;
    else if (key.startsWith("metadata-")) metadata[key.slice(9)] = value;
    else if (SERVICE_PARAMETER_KEYS.has(key) && key !== "env" && key !== "metadata") out[key] = NUMERIC.has(key) && value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  if (Object.keys(env).length) out.env = env;
  if (Object.keys(metadata).length) out.metadata = metadata;
  return out;
}

/**
 * The service description a request asks for: the token's parameters, overridden by the
 * request's x-waiter-* headers (env and metadata merged key by key), with run-as-user and
 * permitted-user defaulting to the requester. Throws 400 in Waiter's words when a required
 * parameter is missing or a value is invalid.
 */
export function serviceDescription(token: TokenData | undefined, headers: Headers, requester: string): TokenData {
  const fromToken = pick(token ?? {}, SERVICE_PARAMETER_KEYS);
  const fromHeaders = headerParameters(headers);
  const desc: TokenData = { ...fromToken, ...fromHeaders };
  for (const k of ["env", "metadata"]) {
    const merged = { ...(fromToken[k] as object | undefined), ...(fromHeaders[k] as object | undefined) };
    if (Object.keys(merged).length) desc[k] = merged;
  }
  if (desc["run-as-user"] === undefined || desc["run-as-user"] === "*") desc["run-as-user"] = requester;
  desc["permitted-user"] ??= requester;
  const missing = REQUIRED.filter((k) => desc[k] === undefined);
  if (missing.length) throw new ApiError(400, INVALID_DESCRIPTION, { friendly: missing.map((k) => `${k} is required.`) });
  const invalid = validateParameters(desc);
  if (invalid) throw new ApiError(400, INVALID_DESCRIPTION, { friendly: invalid.split("\n") });
  return desc;
}

/** The description with Waiter's defaults for everything it does not set (effective-parameters). */
export const effectiveDescription = (desc: TokenData): TokenData => ({ ...DESCRIPTION_DEFAULTS, ...desc });

/** kubernetes.clj get-port-range: port0 in [base, base + 1000), a step of 10, from the description's hash. */
export function servicePort(desc: TokenData, base = 31000): number {
  const h = createHash("sha256").update(canonicalJSON(desc)).digest();
  return base + (h.readUInt32BE(0) % 100) * 10;
}

const int = (v: unknown, dflt: number): number => (typeof v === "number" && Number.isFinite(v) ? v : dflt);

export interface ServiceApp {
  /** The App's name: "w-" and the first 24 hex digits of the service-id. */
  name: string;
  serviceId: string;
  /** Image, processes, env and idle timeout; owner, pool and state are the caller's. */
  spec: AppSpec;
}

/** The App name of a service-id (DNS label, room for "-web" and "-v<n>" suffixes). */
export const serviceAppName = (serviceId: string) => `w-${serviceId.slice(0, 24)}`;

/**
 * The App that runs a service: one `web` process running `cmd` with /bin/sh -c, PORT,
 * PORT0..PORT<ports-1>, USER and LOGNAME in its environment, readiness on health-check-url, min-instances
 * replicas, cpus and mem as requests and limits; idle-timeout-mins as the App's idle timeout
 * (0: never idle).
 */
export function serviceApp(desc: TokenData, defaultImage: string): ServiceApp {
  const eff = effectiveDescription(desc);
  const port0 = servicePort(desc);
  const ports = Math.max(1, int(eff.ports, 1));
  // USER and LOGNAME are the run-as-user, as scheduler.clj environment sets them (so two users' services differ).
  const user = String(eff["run-as-user"] ?? "");
  const env: Record<string, string> = { ...(eff.env as Record<string, string>), ...(user ? { USER: user, LOGNAME: user } : {}), PORT: String(port0) };
  for (let i = 0; i < ports; i++) env[`PORT${i}`] = String(port0 + i);
  const cpus = int(eff.cpus, 0.1);
  const web: Process = {
    name: "web",
    command: ["/bin/sh", "-c", String(eff.cmd)],
    ports: [{ name: "http", port: port0 }],
    healthCheck: { path: String(eff["health-check-url"]), periodSeconds: Math.max(1, int(eff["health-check-interval-secs"], 10)), failureThreshold: 1 },
    resources: { cpu: `${Math.max(1, Math.round(cpus * 1000))}m`, memory: `${Math.max(1, Math.round(int(eff.mem, 128)))}Mi` },
  };
  const image = typeof eff.image === "string" && eff.image ? eff.image : defaultImage;
  const envList = Object.keys(env)
    .sort()
    .map((name) => ({ name, value: env[name] ?? "" }));
  const serviceId = contentHash({ image, processes: [web], env });
  const idle = int(eff["idle-timeout-mins"], 30);
  return {
    name: serviceAppName(serviceId),
    serviceId,
    spec: { image, processes: [{ ...web, replicas: Math.max(1, int(eff["min-instances"], 1)) }], env: envList, ...(idle > 0 ? { idle: { timeoutMinutes: idle } } : {}) },
  };
}
