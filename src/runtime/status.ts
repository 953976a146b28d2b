// Writes that every reconciler needs: server-side apply of children under one field
// manager, and status through the status subresource, only when it changed.
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject, ResourceType } from "../kube/resource.ts";
import { controllerRef, keyOf } from "../kube/resource.ts";
import type { RecentWrites } from "./recent-writes.ts";

export const FIELD_MANAGER = "berth-controller";

/** Stable JSON (sorted keys) for comparisons that must not depend on key order. */
export function canonicalJSON(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === "object" && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : val,
  );
}

/** Sets owner as the controlling owner of child (garbage collection deletes child with it). */
export function withOwner<T extends KubeObject>(child: T, owner: KubeObject): T {
  return { ...child, metadata: { ...child.metadata, ownerReferences: [controllerRef(owner)] } };
}

/** Server-side apply of a child; forces ownership of the fields Berth manages. */
export function applyChild<T extends KubeObject>(client: KubeClient, type: ResourceType, child: T): Promise<T> {
  return client.apply(type, child, FIELD_MANAGER, { force: true });
}

/** True when status says what the cached object's status says already. */
export function statusUnchanged(obj: KubeObject, status: object): boolean {
  return canonicalJSON(obj.status ?? {}) === canonicalJSON(status);
}

/**
 * Applies status through the status subresource unless it equals the cached status (or, with
 * recent, unless this status was written already on top of the version still cached).
 * Returns true when a write happened.
 */
export async function updateStatus(client: KubeClient, type: ResourceType, obj: KubeObject, status: object, recent?: RecentWrites): Promise<boolean> {
  if (statusUnchanged(obj, status)) return false;
  const key = `${type.plural}/${keyOf(obj)}/status`;
  const fingerprint = canonicalJSON(status);
  if (recent?.written(key, obj.metadata.resourceVersion, fingerprint)) return false;
  await client.apply(
    type,
    { metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace }, status },
    FIELD_MANAGER,
    { force: true, subresource: "status" },
  );
  recent?.remember(key, obj.metadata.resourceVersion, fingerprint);
  return true;
}
