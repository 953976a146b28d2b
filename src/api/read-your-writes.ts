// After a write, wait (briefly) until the shared cache has seen it, so that a client that
// writes then reads gets its write back from any replica's cache.
import type { ResourceType } from "../kube/resource.ts";
import type { InformerFactory } from "../runtime/informer.ts";

/** Until the cache holds key at rv, or no longer holds key (rv undefined); at most 2 s. */
export async function cacheSynced(informers: InformerFactory, t: ResourceType, key: string, rv: string | undefined): Promise<void> {
  const store = informers.informerFor(t).store;
  for (let i = 0; i < 100; i++) {
    const cur = store.get(key);
    if (rv === undefined ? !cur : cur?.metadata.resourceVersion === rv) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
