const table = new Map<string, string>();
export function intern<T>(v: T): T {
  if (typeof v === "string") {
    if (v.length > 64) return v;
    const s = table.get(v);
    if (s !== undefined) return s as T;
    table.set(v, v);
    return v;
  }
  if (Array.isArray(v)) { for (let i = 0; i < v.length; i++) v[i] = intern(v[i]); return v; }
  if (v && typeof v === "object") { for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = intern((v as Record<string, unknown>)[k]); return v; }
  return v;
}
export const tableSize = () => table.size;
