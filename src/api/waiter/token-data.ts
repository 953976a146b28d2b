// Waiter's token data, as pure functions: which keys a token may hold, how its data is
// validated (with Waiter's own messages), and its content hash (the ETag). Key sets and
// messages follow twosigma/waiter:waiter/src/waiter/service_description.clj and
// waiter/src/waiter/token.clj.
import { createHash } from "node:crypto";
import type { WaiterTokenSpec } from "../../model/kinds.ts";

/** Service parameters a token may set (service_description.clj service-parameter-keys). */
export const SERVICE_PARAMETER_KEYS = new Set([
  // overridable
  "authentication", "concurrency-level", "distribution-scheme", "expired-instance-restart-rate", "grace-period-secs",
  "health-check-interval-secs", "health-check-max-consecutive-failures", "idle-timeout-mins", "instance-expiry-mins",
  "interstitial-secs", "jitter-threshold", "load-balancing", "max-queue-length", "min-instances", "max-instances",
  "restart-backoff-factor", "scale-down-factor", "scale-factor", "scale-up-factor",
  // not overridable
  "allowed-params", "backend-proto", "cmd", "cmd-type", "cpus", "env", "health-check-authentication", "health-check-port-index",
  "health-check-proto", "health-check-url", "image", "mem", "metadata", "metric-group", "name", "namespace", "permitted-user",
  "ports", "profile", "run-as-user", "scheduler", "version",
]);
/** Metadata only the system writes. */
export const SYSTEM_METADATA_KEYS = new Set(["cluster", "deleted", "last-update-time", "last-update-user", "previous", "root"]);
/** Metadata a user may write. */
export const USER_METADATA_KEYS = new Set(["cors-rules", "fallback-period-secs", "https-redirect", "owner", "stale-timeout-mins", "maintenance"]);
export const TOKEN_DATA_KEYS = new Set([...SERVICE_PARAMETER_KEYS, ...SYSTEM_METADATA_KEYS, ...USER_METADATA_KEYS]);

/** token.clj valid-token-re (matched as a whole). */
export const TOKEN_NAME = /^[a-zA-Z][a-zA-Z0-9\-_$.]+$/;

export type TokenData = Record<string, unknown>;

export const pick = (data: TokenData, keys: Set<string>): TokenData => Object.fromEntries(Object.entries(data).filter(([k]) => keys.has(k)));

/** A value as Clojure's str renders it for the hash: strings as they are, anything else as canonical JSON. */
function render(v: unknown): string {
  if (typeof v === "string") return v;
  return JSON.stringify(canonical(v)) ?? "";
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/**
 * The token's ETag: "E-" and an MD5 over its sorted keys and values, without "previous"
 * (service_description.clj token-data->token-hash, parameters->id). Equal data gives an equal
 * ETag whatever the token's name; an absent or deleted token has none (undefined).
 */
export function tokenHash(data: TokenData | undefined): string | undefined {
  if (!data || Object.keys(data).length === 0 || data.deleted) return undefined;
  const relevant = pick(data, TOKEN_DATA_KEYS);
  delete relevant.previous;
  const text = Object.keys(relevant)
    .sort()
    .map((k) => `${k}${render(relevant[k])}`)
    .join("");
  return `E-${createHash("md5").update(text).digest("hex")}`;
}

/** The token's full data (parameters and metadata) as Waiter keeps it: last-update-time in epoch milliseconds. */
export function tokenData(spec: WaiterTokenSpec): TokenData {
  const data: TokenData = { ...spec.description, owner: spec.owner };
  if (spec.lastUpdateTime) data["last-update-time"] = Date.parse(spec.lastUpdateTime);
  if (spec.lastUpdateUser) data["last-update-user"] = spec.lastUpdateUser;
  if (spec.root) data.root = spec.root;
  if (spec.cluster) data.cluster = spec.cluster;
  if (spec.deleted) data.deleted = true;
  return data;
}

/** last-update-time (epoch ms) as ISO-8601, in data and in every level of previous, as Waiter shows it with include=metadata. */
export function withIsoTimes(data: TokenData): TokenData {
  const out: TokenData = { ...data };
  if (typeof out["last-update-time"] === "number") out["last-update-time"] = new Date(out["last-update-time"]).toISOString();
  if (out.previous && typeof out.previous === "object" && !Array.isArray(out.previous)) out.previous = withIsoTimes(out.previous as TokenData);
  return out;
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInt = (v: unknown): v is number => isNum(v) && Number.isInteger(v);
const nonEmpty = (v: unknown) => typeof v === "string" && v.length > 0;
const intIn = (lo: number, hi: number) => (v: unknown) => isInt(v) && v >= lo && v <= hi;
const oneOf = (...xs: string[]) => (v: unknown) => typeof v === "string" && xs.includes(v);
const RESERVED_ENV = new Set(["HOME", "LOGNAME", "USER"]);
const reservedEnv = (k: string) => RESERVED_ENV.has(k) || k.startsWith("MARATHON_") || k.startsWith("MESOS_") || /^PORT\d*$/.test(k) || (k.startsWith("WAITER_") && !k.startsWith("WAITER_CONFIG_"));
const validEnv = (v: unknown) =>
  !!v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length < 100 && Object.entries(v).every(([k, x]) => k.length <= 512 && /^[A-Za-z][A-Za-z0-9_]*$/.test(k) && !reservedEnv(k) && typeof x === "string" && x.length >= 1 && x.length <= 512);
const validMetadata = (v: unknown) => !!v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length < 100 && Object.entries(v).every(([k, x]) => /^[a-z][a-z0-9-]*$/.test(k) && typeof x === "string");

/** Per parameter: is the value valid, and Waiter's message when it is not (validate-schema, in its order). */
const CHECKS: [string, (v: unknown) => boolean, string][] = [
  ["cmd", nonEmpty, "cmd must be a non-empty string."],
  ["backend-proto", oneOf("h2", "h2c", "http", "https"), "backend-proto must be one of h2, h2c, http, or https."],
  ["concurrency-level", intIn(1, 10000), "concurrency-level must be an integer in the range [1, 10000]."],
  ["cpus", (v) => isNum(v) && v > 0, "cpus must be a positive number."],
  ["distribution-scheme", oneOf("balanced", "simple"), "distribution-scheme must be one of balanced or simple."],
  ["env", validEnv, "Environment variables must be a map from string to string, with keys made up of letters, underscores, and numbers, starting with a letter, and not reserved."],
  ["grace-period-secs", intIn(0, 3600), "grace-period-secs must be an integer in the range [0, 3600]."],
  ["health-check-port-index", intIn(0, 9), "health-check-port-index must be an integer in the range [0, 9]."],
  ["health-check-url", nonEmpty, "health-check-url must be a non-empty string."],
  ["idle-timeout-mins", intIn(0, 43200), "idle-timeout-mins must be an integer in the range [0, 43200]."],
  ["max-instances", intIn(1, 1000), "max-instances must be between 1 and 1000."],
  ["mem", (v) => isNum(v) && v > 0, "mem must be a positive number."],
  ["metadata", validMetadata, "Metadata must be a map from string to string, with keys made up of lower-case letters, numbers, and hyphens, starting with a letter."],
  ["min-instances", intIn(1, 4), "min-instances must be between 1 and 4."],
  ["name", nonEmpty, "name must be a non-empty string."],
  ["ports", intIn(1, 10), "ports must be an integer in the range [1, 10]."],
  ["version", nonEmpty, "version must be a non-empty string."],
];

/**
 * Why a token's service parameters are invalid (Waiter's messages joined by newlines), or
 * undefined. Missing required parameters are allowed: a token may be partial.
 */
export function validateParameters(params: TokenData): string | undefined {
  const messages = CHECKS.filter(([k, ok]) => k in params && !ok(params[k])).map(([, , m]) => m);
  for (const k of ["run-as-user", "permitted-user", "cmd-type", "image", "namespace", "profile", "scheduler", "authentication"]) {
    if (k in params && !nonEmpty(params[k])) messages.push(`${k} must be a non-empty string.`);
  }
  if (messages.length) return messages.join("\n");
  const min = params["min-instances"];
  const max = params["max-instances"];
  if (isInt(min) && isInt(max) && min > max) return `min-instances (${min}) must be less than or equal to max-instances (${max})`;
  const cmdType = params["cmd-type"];
  if (typeof cmdType === "string" && cmdType.trim() !== "" && !["docker", "shell"].includes(cmdType)) return `Command type ${cmdType} is not supported`;
  const port = params["health-check-port-index"];
  const ports = params.ports;
  if (isInt(port) && isInt(ports) && port >= ports) return `The health check port index (${port}) must be smaller than ports (${ports})`;
  const ns = params.namespace;
  if (ns !== undefined && ns !== params["run-as-user"]) return "Service namespace must either be omitted or match the run-as-user.";
  return undefined;
}

/** User metadata checks (user-metadata-schema): undefined when valid. */
export function validateUserMetadata(meta: TokenData): string | undefined {
  const ok =
    (!("owner" in meta) || nonEmpty(meta.owner)) &&
    (!("https-redirect" in meta) || typeof meta["https-redirect"] === "boolean") &&
    (!("fallback-period-secs" in meta) || intIn(0, 86400)(meta["fallback-period-secs"])) &&
    (!("stale-timeout-mins" in meta) || intIn(0, 240)(meta["stale-timeout-mins"])) &&
    (!("maintenance" in meta) || validMaintenance(meta.maintenance));
  return ok ? undefined : "User metadata validation failed";
}

function validMaintenance(v: unknown): boolean {
  if (!v || typeof v !== "object" || Array.isArray(v)) return false;
  const m = (v as { message?: unknown }).message;
  return m === undefined || (typeof m === "string" && m.length >= 1 && m.length <= 512);
}

/** Keys Waiter does not know, in its message's shape: `Unsupported key(s) in token: ["a" "b"]`, or undefined. */
export function unsupportedKeys(body: TokenData): string | undefined {
  const unknown = Object.keys(body)
    .filter((k) => k !== "token" && !TOKEN_DATA_KEYS.has(k))
    .sort();
  return unknown.length ? `Unsupported key(s) in token: [${unknown.map((k) => JSON.stringify(k)).join(" ")}]` : undefined;
}

/** Whether an If-Match value matches the token's current hash (an empty one matches only an absent or deleted token). */
export function ifMatchHolds(ifMatch: string | undefined, current: TokenData | undefined): boolean {
  if (ifMatch === undefined) return true;
  return (tokenHash(current) ?? "") === ifMatch;
}

/** Deep equality over JSON values (key order ignored). */
export function sameData(a: TokenData, b: TokenData): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
