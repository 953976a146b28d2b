// Optimistic concurrency for read-modify-write: the change is computed from the object as last
// read and written with that resourceVersion as a precondition; when someone else wrote in
// between (409 Conflict), the object is read afresh from the API server and the change is
// computed again. Every acknowledged write therefore builds on every earlier one: two clients
// appending to one list both land, where a blind merge patch of the whole list would keep one.
import type { KubeClient } from "./client.ts";
import { isConflict } from "./client.ts";
import type { KubeObject, ResourceType } from "./resource.ts";

/** A change computed from the current object: a JSON merge patch, or undefined for "nothing to do". */
export type Mutation<T extends KubeObject> = (current: T) => Record<string, unknown> | undefined;

export interface OptimisticOptions {
  /** Attempts before giving up with the last conflict (default 50: writers of one object, and its controller's status writes, each move its resourceVersion). */
  attempts?: number;
}

/**
 * Merge-patches t/namespace/name with mutate(current), preconditioned on current's
 * resourceVersion; retries with a fresh read on conflict. `first` (e.g. from a cache) saves
 * the initial read; a stale one only costs a retry. Returns the object as written (or as
 * read, when the mutation had nothing to do).
 */
export async function updateWithRetry<T extends KubeObject>(
  client: KubeClient,
  t: ResourceType,
  namespace: string | undefined,
  name: string,
  mutate: Mutation<T>,
  first?: T,
  o: OptimisticOptions = {},
): Promise<T> {
  const attempts = o.attempts ?? 50;
  let current = first ?? (await client.get<T>(t, namespace, name));
  for (let i = 1; ; i++) {
    const patch = mutate(current);
    if (!patch) return current;
    const meta = (patch.metadata ?? {}) as Record<string, unknown>;
    try {
      return await client.mergePatch<T>(t, namespace, name, { ...patch, metadata: { ...meta, resourceVersion: current.metadata.resourceVersion } });
    } catch (e) {
      if (!isConflict(e) || i >= attempts) throw e;
      // A short, jittered pause spreads many writers of one object apart.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * Math.min(i, 10)));
      current = await client.get<T>(t, namespace, name);
    }
  }
}
