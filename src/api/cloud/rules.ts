// The cloud API's rules for request fields, as pure functions: each refusal names the field and
// the rule (400). Memory bounds: multiples of 12 GB from 24 to 720 (the documented limit for
// paid services: Berth has no billing tiers), only for production services; idle timeout at
// least 5 minutes.
import type { ServiceInstanceSpec, ServiceScaling, ServiceTier } from "../../model/kinds.ts";
import { badRequest } from "../errors.ts";
import { optBool, optInt } from "./http.ts";

export const MEMORY_MIN_GB = 24;
export const MEMORY_MAX_GB = 720;
export const MIN_IDLE_TIMEOUT_MINUTES = 5;
export const MAX_IP_ACCESS_ENTRIES = 64;

export type IpEntry = { source: string; description?: string };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/(\d|[12]\d|3[0-2]))?$/;
const IPV6 = /^[0-9a-fA-F:.]+(\/(\d|[1-9]\d|1[01]\d|12[0-8]))?$/;

export function validSource(s: string): boolean {
  const m = IPV4.exec(s);
  if (m) return [m[1], m[2], m[3], m[4]].every((o) => Number(o) <= 255);
  return s.includes(":") && IPV6.test(s);
}

export function tier(v: unknown): ServiceTier | undefined {
  if (v === undefined || v === null) return undefined;
  if (v !== "development" && v !== "production") throw badRequest("tier: must be 'development' or 'production'");
  return v;
}

/** New scaling from a request body over the current one; refuses what breaks a rule. */
export function scalingFrom(b: Record<string, unknown>, current: ServiceScaling | undefined, serviceTier: ServiceTier): ServiceScaling {
  const min = optInt(b, "minTotalMemoryGb");
  const max = optInt(b, "maxTotalMemoryGb");
  const idleTimeoutMinutes = optInt(b, "idleTimeoutMinutes");
  const numReplicas = optInt(b, "numReplicas");
  const idleScaling = optBool(b, "idleScaling");
  if ((min !== undefined || max !== undefined) && serviceTier === "development") {
    throw badRequest("minTotalMemoryGb, maxTotalMemoryGb: available only for 'production' services (development services have a fixed size)");
  }
  for (const [field, v] of [["minTotalMemoryGb", min], ["maxTotalMemoryGb", max]] as const) {
    if (v !== undefined && (v % 12 !== 0 || v < MEMORY_MIN_GB || v > MEMORY_MAX_GB)) throw badRequest(`${field}: must be a multiple of 12 between ${MEMORY_MIN_GB} and ${MEMORY_MAX_GB}`);
  }
  const next: ServiceScaling = { ...current };
  if (min !== undefined) next.minTotalMemoryGb = min;
  if (max !== undefined) next.maxTotalMemoryGb = max;
  if (next.minTotalMemoryGb !== undefined && next.maxTotalMemoryGb !== undefined && next.minTotalMemoryGb > next.maxTotalMemoryGb) {
    throw badRequest("minTotalMemoryGb: must not be greater than maxTotalMemoryGb");
  }
  if (idleTimeoutMinutes !== undefined) {
    if (idleTimeoutMinutes < MIN_IDLE_TIMEOUT_MINUTES) throw badRequest(`idleTimeoutMinutes: must be >= ${MIN_IDLE_TIMEOUT_MINUTES} minutes`);
    next.idleTimeoutMinutes = idleTimeoutMinutes;
  }
  if (numReplicas !== undefined) {
    if (numReplicas < 1 || numReplicas > 20) throw badRequest("numReplicas: must be between 1 and 20");
    next.numReplicas = numReplicas;
  }
  if (idleScaling !== undefined) next.idleScaling = idleScaling;
  return next;
}

function entries(v: unknown, field: string, needDescription: boolean): IpEntry[] {
  if (!Array.isArray(v)) throw badRequest(`${field}: must be a list of {source, description}`);
  return v.map((e: unknown, i) => {
    if (!e || typeof e !== "object" || Array.isArray(e)) throw badRequest(`${field}[${i}]: must be an object {source, description}`);
    const { source, description } = e as { source?: unknown; description?: unknown };
    if (typeof source !== "string" || !validSource(source)) throw badRequest(`${field}[${i}].source: must be an IPv4 address or CIDR (such as 203.0.113.7 or 10.0.0.0/8) or an IPv6 CIDR`);
    if (description !== undefined && typeof description !== "string") throw badRequest(`${field}[${i}].description: must be a string`);
    return needDescription || description !== undefined ? { source, ...(typeof description === "string" ? { description } : {}) } : { source };
  });
}

/** ipAccessList as a full list, or as {add: [...], remove: [{source}]} applied to the current one. */
export function ipAccessListFrom(v: unknown, current: IpEntry[]): IpEntry[] {
  let next: IpEntry[];
  if (Array.isArray(v)) {
    next = entries(v, "ipAccessList", true);
  } else if (v && typeof v === "object") {
    const { add, remove, ...rest } = v as { add?: unknown; remove?: unknown };
    if (Object.keys(rest).length) throw badRequest(`ipAccessList: unknown field ${Object.keys(rest)[0]}; use add and remove`);
    const removed = new Set(remove === undefined ? [] : entries(remove, "ipAccessList.remove", false).map((e) => e.source));
    const added = add === undefined ? [] : entries(add, "ipAccessList.add", true);
    next = [...current.filter((e) => !removed.has(e.source) && !added.some((a) => a.source === e.source)), ...added];
  } else {
    throw badRequest("ipAccessList: must be a list of {source, description} or {add, remove}");
  }
  if (next.length > MAX_IP_ACCESS_ENTRIES) throw badRequest(`ipAccessList: at most ${MAX_IP_ACCESS_ENTRIES} entries`);
  return next;
}

/** The scaling a service shows when its spec leaves a field unset. */
export function shownScaling(spec: Pick<ServiceInstanceSpec, "scaling" | "tier">): Required<Omit<ServiceScaling, "numReplicas">> & { numReplicas: number } {
  const s = spec.scaling ?? {};
  return {
    minTotalMemoryGb: s.minTotalMemoryGb ?? MEMORY_MIN_GB,
    maxTotalMemoryGb: s.maxTotalMemoryGb ?? (spec.tier === "development" ? MEMORY_MIN_GB : 360),
    numReplicas: s.numReplicas ?? 1,
    idleScaling: s.idleScaling ?? true,
    idleTimeoutMinutes: s.idleTimeoutMinutes ?? 15,
  };
}
