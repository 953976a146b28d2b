// After a write, wait (briefly) until the shared cache has seen it, so that a client that
// writes then reads gets its write back from any replica's cache.
import type { KubeObject } from "../kube/resource.ts";
import type { Store } from "../runtime/store.ts";

/**
 * True when the cached resourceVersion is at least rv. resourceVersions are opaque to
 * clients, but every kube-apiserver backed by etcd hands out etcd revisions (decimal
 * integers that grow): the cache may already hold a later version (a controller moved the
 * object on), which includes the write. Anything else compares by equality.
 */
export function atLeast(cached: string | undefined, rv: string): boolean {
  if (cached === undefined) return false;
  if (/^\d+$/.test(cached) && /^\d+$/.test(rv)) return BigInt(cached) >= BigInt(rv);
  return cached === rv;
}

/** Until the cache holds key at rv or later, or no longer holds key (rv undefined); at most 2 s. */
export async function cacheSynced(store: Store<KubeObject>, key: string, rv: string | undefined): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const cur = store.get(key);
    if (rv === undefined ? !cur : atLeast(cur?.metadata.resourceVersion, rv)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
