// Deis limits and tags on Berth's App spec: memory ("512M", "1024MB", "1G"), CPU shares
// (1024 = one core) per process type, and tags as node labels. Pure functions.
import type { App } from "../../model/kinds.ts";
import { badRequest } from "../errors.ts";

/**
 * Deis/Docker memory as a Kubernetes quantity: "512M" and "512MB" are "512Mi", "1G" and "1GB"
 * "1Gi", "64K" and "64KB" "64Ki", "100B" (or no unit) bytes. Deis 1.13 accepts
 * `^[0-9]+(MB|KB|GB|[BKMG])$`, any case (deis/deis:controller/api/serializers.py MEMLIMIT_MATCH).
 */
export function fromDeisMemory(v: string): string | undefined {
  const m = /^(\d+)(KB|MB|GB|[BKMG])?$/i.exec(v.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? "").toUpperCase().replace(/B$/, "");
  return unit === "" ? m[1] : `${m[1]}${unit}i`;
}
export const toDeisMemory = (q: string) => q.replace(/([KMG])i$/, "$1");
/** Docker CPU shares (1024 = one core) to millicores, and back. */
export const fromShares = (shares: number) => `${Math.max(1, Math.round((shares * 1000) / 1024))}m`;
export const toShares = (q: string) => Math.round(((q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000) * 1024) / 1000);

type Processes = App["spec"]["processes"];

/** Deis limits (memory, cpu per process type) and tags (node labels) onto the App's spec; null unsets. */
export function applyLimits(app: App, b: Record<string, unknown>): { processes: Processes; nodeSelector: Record<string, string | null> | undefined; changed: boolean } {
  const obj = (k: string) => {
    const v = b[k];
    if (v === undefined || v === null) return {};
    if (typeof v !== "object" || Array.isArray(v)) throw badRequest(k, { [k]: ["Must be an object."] });
    return v as Record<string, unknown>;
  };
  const memory = obj("memory");
  const cpu = obj("cpu");
  const tags = obj("tags");
  for (const type of [...Object.keys(memory), ...Object.keys(cpu)]) {
    if (!app.spec.processes.some((x) => x.name === type)) throw badRequest(type, { detail: [`Container type ${type} does not exist in application`] });
  }
  const processes = app.spec.processes.map((x) => {
    const r = { ...x.resources };
    if (x.name in memory) {
      const v = memory[x.name];
      if (v === null) delete r.memory;
      else {
        const q = typeof v === "string" || typeof v === "number" ? fromDeisMemory(String(v)) : undefined;
        if (!q) throw badRequest("memory", { memory: ["Limit format: <number><unit>, where unit = B, K, M or G"] });
        r.memory = q;
      }
    }
    if (x.name in cpu) {
      const v = cpu[x.name];
      if (v === null) delete r.cpu;
      else {
        const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
        if (!Number.isInteger(n)) throw badRequest("cpu", { cpu: ["CPU shares must be an integer"] });
        if (n < 1 || n > 1024 * 64) throw badRequest("cpu", { cpu: ["CPU shares must be between 1 and 65536 (1024 = one core)"] });
        r.cpu = fromShares(n);
      }
    }
    const { resources: _old, ...rest } = x;
    return Object.keys(r).length ? { ...rest, resources: r } : rest;
  });
  let nodeSelector: Record<string, string | null> | undefined;
  if (Object.keys(tags).length) {
    nodeSelector = {};
    for (const [k, v] of Object.entries(tags)) {
      if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k) || (v !== null && (typeof v !== "string" || !/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(v)))) {
        throw badRequest("tags", { tags: [`Invalid tag ${k}=${String(v)}: keys and values are Kubernetes label names and values`] });
      }
      nodeSelector[k] = v as string | null;
    }
  }
  const selectorChanged = !!nodeSelector && Object.entries(nodeSelector).some(([k, v]) => (app.spec.nodeSelector?.[k] ?? null) !== v);
  const changed = selectorChanged || JSON.stringify(processes) !== JSON.stringify(app.spec.processes);
  return { processes, nodeSelector, changed };
}
