// The cache of one resource type: objects by key, by namespace (as client-go's cache.NamespaceIndex),
// plus named indexes (e.g. apps by pool, tokens by hash). Reads return the stored objects:
// callers must not mutate them.
import type { KubeObject } from "../kube/resource.ts";
import { keyOf } from "../kube/resource.ts";

export type IndexFunc<T> = (obj: T) => string[];

export class Store<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  /** namespace -> keys: a namespace's objects without a pass over every object cached. */
  private readonly namespaces = new Map<string, Set<string>>();
  private readonly indexFuncs = new Map<string, IndexFunc<T>>();
  /** index name -> value -> keys */
  private readonly indexes = new Map<string, Map<string, Set<string>>>();

  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.indexFuncs.has(name)) return;
    this.indexFuncs.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.indexes.set(name, idx);
    for (const [key, obj] of this.items) for (const v of fn(obj)) add(idx, v, key);
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.items.values()];
    return [...(this.namespaces.get(namespace) ?? [])].map((k) => this.items.get(k)!);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  byIndex(name: string, value: string): T[] {
    const idx = this.indexes.get(name);
    if (!idx) throw new Error(`no index named ${name}`);
    return [...(idx.get(value) ?? [])].map((k) => this.items.get(k)).filter((o): o is T => o !== undefined);
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    if (obj.metadata.namespace) add(this.namespaces, obj.metadata.namespace, key);
    for (const [name, fn] of this.indexFuncs) for (const v of fn(obj)) add(this.indexes.get(name)!, v, key);
    return old;
  }

  remove(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  private unindex(key: string, obj: T): void {
    if (obj.metadata.namespace) drop(this.namespaces, obj.metadata.namespace, key);
    for (const [name, fn] of this.indexFuncs) {
      const idx = this.indexes.get(name)!;
      for (const v of fn(obj)) drop(idx, v, key);
    }
  }
}

function drop(idx: Map<string, Set<string>>, value: string, key: string): void {
  const set = idx.get(value);
  set?.delete(key);
  if (set?.size === 0) idx.delete(value);
}

function add(idx: Map<string, Set<string>>, value: string, key: string): void {
  let set = idx.get(value);
  if (!set) idx.set(value, (set = new Set()));
  set.add(key);
}
