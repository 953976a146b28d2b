// The controller loop: event handlers turn watched objects into keys, workers take keys
// from the queue and call the reconciler. A reconcile that throws is logged, counted and
// retried with backoff (never kills the process); PermanentError is not retried.
import { randomUUID } from "node:crypto";
import type { KubeObject, ResourceType } from "../kube/resource.ts";
import { keyOf, splitKey } from "../kube/resource.ts";
import type { Logger } from "../log.ts";
import type { Informer, InformerFactory } from "./informer.ts";
import { controllerMetrics, queueMetrics } from "./metrics.ts";
import type { Selector } from "./reflector.ts";
import type { ObjectKey, Reconciler } from "./types.ts";
import { PermanentError } from "./types.ts";
import { WorkQueue } from "./workqueue.ts";

export type MapFunc<T extends KubeObject = KubeObject> = (obj: T) => ObjectKey[];

export interface ControllerOptions {
  concurrency?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly concurrency: number;
  private readonly log: Logger;
  /** The informer of the kind this controller reconciles: every object is resynced on (re)start. */
  primary?: Informer<KubeObject>;
  /** Optional hook for tests and benchmarks: called when a reconcile starts. */
  onReconcileStart?: (key: string) => void;

  constructor(
    readonly name: string,
    private readonly reconciler: Reconciler,
    log: Logger,
    o: ControllerOptions = {},
  ) {
    this.concurrency = o.concurrency ?? 1;
    this.queue = new WorkQueue({ name, backoffBaseMs: o.backoffBaseMs, backoffCapMs: o.backoffCapMs });
    this.log = log.child({ controller: name });
  }

  enqueue(key: ObjectKey): void {
    this.queue.add(key.namespace ? `${key.namespace}/${key.name}` : key.name);
  }

  /** Enqueues the keys that map() returns for every add, update and delete of informer's objects. */
  watch<T extends KubeObject>(informer: Informer<T>, map: MapFunc<T>): void {
    const push = (o: T) => {
      for (const k of map(o)) this.enqueue(k);
    };
    informer.addHandler({
      onAdd: push,
      onUpdate: (old, obj) => {
        push(old);
        push(obj);
      },
      onDelete: push,
    });
  }

  /** Runs workers until signal aborts, then drains in-flight reconciles. */
  async run(signal: AbortSignal): Promise<void> {
    controllerMetrics.maxConcurrent.set({ controller: this.name }, this.concurrency);
    controllerMetrics.activeWorkers.set({ controller: this.name }, 0);
    const stop = () => void this.queue.shutDown();
    signal.addEventListener("abort", stop, { once: true });
    // A controller that lost leadership and won it back missed the events in between.
    this.queue.reopen();
    for (const o of this.primary?.store.list() ?? []) this.enqueue(splitKey(keyOf(o)));
    this.log.info("starting workers", { workers: this.concurrency });
    const workers = Array.from({ length: this.concurrency }, () => this.worker(signal));
    await Promise.all(workers);
    await this.queue.shutDown();
    this.log.info("workers stopped");
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.process(key, signal);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async process(key: string, signal: AbortSignal): Promise<void> {
    const reconcileID = randomUUID();
    const log = this.log.child({ key, reconcileID });
    const labels = { controller: this.name };
    controllerMetrics.activeWorkers.inc(labels);
    const started = performance.now();
    this.onReconcileStart?.(key);
    try {
      const result = await this.reconciler.reconcile(splitKey(key), { log, reconcileID, signal });
      this.queue.forget(key);
      if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        this.queue.addAfter(key, result.requeueAfterMs);
        controllerMetrics.reconcileTotal.inc({ ...labels, result: "requeue_after" });
      } else {
        controllerMetrics.reconcileTotal.inc({ ...labels, result: "success" });
      }
    } catch (err) {
      controllerMetrics.reconcileErrors.inc(labels);
      controllerMetrics.reconcileTotal.inc({ ...labels, result: "error" });
      if (err instanceof PermanentError) {
        this.queue.forget(key);
        log.error("reconcile failed permanently; not retrying until the object changes", { error: err.message });
      } else if (!signal.aborted) {
        const delay = this.queue.addRateLimited(key);
        log.error("reconcile failed; retrying", { error: String(err), stack: (err as Error).stack, retryInMs: delay, retries: this.queue.retries(key) });
      }
    } finally {
      const seconds = (performance.now() - started) / 1000;
      controllerMetrics.activeWorkers.dec(labels);
      controllerMetrics.reconcileTime.observe(labels, seconds);
      queueMetrics.workDuration.observe({ name: this.name }, seconds);
    }
  }
}

/** controller-runtime style wiring: For(kind).Owns(child).Watches(other, map).Complete(r). */
export class ControllerBuilder {
  private forType?: ResourceType;
  private forSelector: Selector = {};
  private readonly owned: { type: ResourceType; selector: Selector }[] = [];
  private readonly watched: { type: ResourceType; map: MapFunc; selector: Selector }[] = [];
  private opts: ControllerOptions = {};

  constructor(
    private readonly factory: InformerFactory,
    private readonly name: string,
    private readonly log: Logger,
    private readonly register: (c: Controller) => void,
  ) {}

  for(type: ResourceType, selector: Selector = {}): this {
    this.forType = type;
    this.forSelector = selector;
    return this;
  }

  /** Children of this kind map to their controlling owner; a selector narrows the cache. */
  owns(type: ResourceType, selector: Selector = {}): this {
    this.owned.push({ type, selector });
    return this;
  }

  /** Objects of another kind map to keys of this one; a selector narrows what is cached. */
  watches<T extends KubeObject>(type: ResourceType, map: MapFunc<T>, selector: Selector = {}): this {
    this.watched.push({ type, map: map as MapFunc, selector });
    return this;
  }

  withOptions(o: ControllerOptions): this {
    this.opts = { ...this.opts, ...o };
    return this;
  }

  complete(reconciler: Reconciler): Controller {
    const forType = this.forType;
    if (!forType) throw new Error(`controller ${this.name}: for() was not called`);
    const c = new Controller(this.name, reconciler, this.log, this.opts);
    c.primary = this.factory.informerFor(forType, this.forSelector);
    c.watch(c.primary, (o) => [splitKey(keyOf(o))]);
    for (const o of this.owned) c.watch(this.factory.informerFor(o.type, o.selector), (obj) => ownerKeys(obj, forType));
    for (const w of this.watched) c.watch(this.factory.informerFor(w.type, w.selector), w.map);
    this.register(c);
    return c;
  }
}

/** The key of o's controlling owner when that owner is of kind owner. */
export function ownerKeys(o: KubeObject, owner: ResourceType): ObjectKey[] {
  const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");
  const ref = o.metadata.ownerReferences?.find((r) => r.controller && r.kind === owner.kind && groupOf(r.apiVersion) === owner.group);
  if (!ref) return [];
  return [owner.namespaced ? { namespace: o.metadata.namespace, name: ref.name } : { name: ref.name }];
}
