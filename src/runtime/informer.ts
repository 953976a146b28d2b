// Shared informers: one reflector and one cache per resource type (and selector), fanned out
// to every controller that watches it. The shared caches keep objects trimmed (transform.ts).
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject, ResourceType } from "../kube/resource.ts";
import type { Logger } from "../log.ts";
import type { ReflectorOptions, Selector, StoreListener } from "./reflector.ts";
import { cacheMetrics } from "./metrics.ts";
import { Reflector } from "./reflector.ts";
import type { IndexFunc } from "./store.ts";
import { Store } from "./store.ts";
import { transformFor } from "./transform.ts";

export interface EventHandler<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

export class Informer<T extends KubeObject = KubeObject> implements StoreListener<T> {
  readonly store = new Store<T>();
  readonly reflector: Reflector<T>;
  private readonly handlers: EventHandler<T>[] = [];
  private running?: Promise<void>;

  constructor(client: KubeClient, readonly type: ResourceType, log: Logger, opts: ReflectorOptions = {}) {
    this.reflector = new Reflector(client, type, this.store, this, log.child({ informer: type.plural }), opts);
  }

  /** Adds a handler; objects already cached are replayed to it as adds. */
  addHandler(h: EventHandler<T>): void {
    this.handlers.push(h);
    if (this.reflector.hasSynced) for (const o of this.store.list()) h.onAdd?.(o);
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    this.store.addIndex(name, fn);
  }

  added(obj: T): void {
    for (const h of this.handlers) h.onAdd?.(obj);
  }
  updated(old: T, obj: T): void {
    for (const h of this.handlers) h.onUpdate?.(old, obj);
  }
  deleted(obj: T): void {
    for (const h of this.handlers) h.onDelete?.(obj);
  }

  start(signal: AbortSignal): void {
    this.running ??= this.reflector.run(signal);
  }

  get hasSynced(): boolean {
    return this.reflector.hasSynced;
  }

  waitForSync(): Promise<void> {
    return this.reflector.waitForSync();
  }

  /** Resolves when the reflector loop has stopped (after the start signal aborted). */
  stopped(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

export class InformerFactory {
  private readonly informers = new Map<string, Informer>();
  private signal?: AbortSignal;

  constructor(
    readonly client: KubeClient,
    private readonly log: Logger,
    private readonly defaults: ReflectorOptions = {},
  ) {}

  /** The one informer for this type and selector; created on first use. */
  informerFor<T extends KubeObject>(type: ResourceType, selector: Selector = {}): Informer<T> {
    const key = [type.group, type.version, type.plural, selector.namespace, selector.labelSelector, selector.fieldSelector].join("|");
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new Informer(this.client, type, this.log, { transform: transformFor(type), ...this.defaults, ...selector });
      this.informers.set(key, inf);
      if (this.signal) inf.start(this.signal);
    }
    return inf as unknown as Informer<T>;
  }

  start(signal: AbortSignal): void {
    this.signal = signal;
    for (const inf of this.informers.values()) inf.start(signal);
    const untrack = cacheMetrics.track(() => this.sizes());
    signal.addEventListener("abort", untrack, { once: true });
  }

  /** Objects cached per informer, by resource ("deployments.apps"). */
  sizes(): { resource: string; objects: number }[] {
    return [...this.informers.values()].map((i) => ({ resource: i.type.group ? `${i.type.plural}.${i.type.group}` : i.type.plural, objects: i.store.size }));
  }

  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  get hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced);
  }

  async stopped(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stopped()));
  }
}
