// Skips server-side apply when the cached child was last applied from the same desired
// object: steady-state reconciles then cost no API requests at all. With RecentWrites, also
// when this process applied it already and the cache has not caught up with that apply yet.
import { createHash } from "node:crypto";
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject, ResourceType } from "../kube/resource.ts";
import type { RecentWrites } from "./recent-writes.ts";
import { FIELD_MANAGER, canonicalJSON } from "./status.ts";

export const APPLIED_HASH = "berth.dev/applied-hash";

export function desiredHash(obj: KubeObject): string {
  return createHash("sha256").update(canonicalJSON(obj)).digest("hex").slice(0, 32);
}

/** Applies desired unless cached carries the same applied-hash; returns true when it wrote. */
export async function applyIfChanged(client: KubeClient, type: ResourceType, desired: KubeObject, cached: KubeObject | undefined, recent?: RecentWrites): Promise<boolean> {
  const hash = desiredHash(desired);
  if (cached?.metadata.annotations?.[APPLIED_HASH] === hash) return false;
  const key = `${type.plural}/${desired.metadata.namespace ?? ""}/${desired.metadata.name ?? ""}`;
  if (recent?.written(key, cached?.metadata.resourceVersion, hash)) return false;
  const obj = { ...desired, metadata: { ...desired.metadata, annotations: { ...desired.metadata.annotations, [APPLIED_HASH]: hash } } };
  await client.apply(type, obj, FIELD_MANAGER, { force: true });
  recent?.remember(key, cached?.metadata.resourceVersion, hash);
  return true;
}
