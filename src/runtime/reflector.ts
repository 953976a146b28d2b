// List, then watch from the list's resourceVersion; keep a Store in step with the server.
// - watches ask for bookmarks and a server-side timeout of 5-10 min (jittered), so they
//   end and restart regularly instead of hanging on a dead connection;
// - a watchdog aborts a watch that stays silent longer than idleTimeoutMs;
// - failures back off 0.8 s doubling to 30 s, reset after a quiet spell;
// - 410 Gone (the resourceVersion was compacted away) relists, and objects that vanished
//   in the meantime are emitted as deletes;
// - objects pass through a transform (transform.ts) before they are stored.
import type { KubeClient, WatchEvent } from "../kube/client.ts";
import { isGone } from "../kube/client.ts";
import type { KubeObject, ResourceType } from "../kube/resource.ts";
import { keyOf } from "../kube/resource.ts";
import type { Logger } from "../log.ts";
import { Backoff, sleep } from "./backoff.ts";
import type { Store } from "./store.ts";
import type { Transform } from "./transform.ts";
import { reflectorMetrics } from "./metrics.ts";

export interface Selector {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ReflectorOptions extends Selector {
  pageSize?: number;
  minWatchTimeoutSeconds?: number;
  idleTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  quietResetMs?: number;
  /** Applied to every object before it is stored (e.g. strip managedFields). */
  transform?: Transform;
}

export interface StoreListener<T extends KubeObject> {
  added(obj: T): void;
  updated(old: T, obj: T): void;
  deleted(obj: T): void;
}

export class Reflector<T extends KubeObject> {
  private resourceVersion = "";
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private readonly backoff: Backoff;
  private lastFailureAt = 0;
  /** Number of LISTs done; a relist after 410 shows up here. */
  lists = 0;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly store: Store<T>,
    private readonly listener: StoreListener<T>,
    private readonly log: Logger,
    private readonly o: ReflectorOptions = {},
  ) {
    this.backoff = new Backoff(o.backoffBaseMs ?? 800, o.backoffCapMs ?? 30_000);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  waitForSync(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((r) => this.syncWaiters.push(r));
  }

  async run(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.listAndReplace(signal);
          needList = false;
        }
        await this.watchOnce(signal);
      } catch (e) {
        if (signal.aborted) break;
        if (isGone(e)) {
          this.log.info("watch resourceVersion expired (410 Gone): relisting", { resource: this.type.plural });
          reflectorMetrics.relists.inc({ resource: this.type.plural });
          needList = true;
          continue;
        }
        const now = Date.now();
        if (now - this.lastFailureAt > (this.o.quietResetMs ?? 120_000)) this.backoff.reset();
        this.lastFailureAt = now;
        const delay = this.backoff.next();
        reflectorMetrics.watchErrors.inc({ resource: this.type.plural });
        this.log.warn("list/watch failed; retrying", { resource: this.type.plural, error: String(e), retryInMs: Math.round(delay) });
        await sleep(delay, signal);
      }
    }
  }

  private async listAndReplace(signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = "";
    do {
      const page = await this.client.list<T>(this.type, {
        namespace: this.o.namespace,
        labelSelector: this.o.labelSelector,
        fieldSelector: this.o.fieldSelector,
        limit: this.o.pageSize ?? 500,
        continue: cont,
        signal,
      });
      for (const item of page.items) {
        // Lists omit apiVersion/kind on items; restore them so consumers can rely on them.
        item.apiVersion ??= this.type.group ? `${this.type.group}/${this.type.version}` : this.type.version;
        item.kind ??= this.type.kind;
        fresh.set(keyOf(item), this.transform(item));
      }
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion ?? rv;
    } while (cont);
    this.lists++;
    for (const key of this.store.keys()) {
      if (!fresh.has(key)) {
        const gone = this.store.remove(key);
        if (gone) this.listener.deleted(gone);
      }
    }
    for (const obj of fresh.values()) this.apply(obj);
    this.resourceVersion = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private transform(obj: T): T {
    return this.o.transform ? (this.o.transform(obj) as T) : obj;
  }

  private apply(obj: T): void {
    const old = this.store.upsert(obj);
    if (!old) this.listener.added(obj);
    else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.listener.updated(old, obj);
  }

  private async watchOnce(signal: AbortSignal): Promise<void> {
    const min = this.o.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(min + Math.random() * min);
    await this.client.watch(
      this.type,
      {
        namespace: this.o.namespace,
        labelSelector: this.o.labelSelector,
        fieldSelector: this.o.fieldSelector,
        resourceVersion: this.resourceVersion,
        timeoutSeconds,
        idleTimeoutMs: this.o.idleTimeoutMs ?? 150_000,
        signal,
      },
      (e) => this.onEvent(e as WatchEvent<T>),
    );
  }

  private onEvent(e: WatchEvent<T>): void {
    if (e.object.metadata.resourceVersion) this.resourceVersion = e.object.metadata.resourceVersion;
    if (e.type === "BOOKMARK") return;
    const obj = this.transform(e.object);
    switch (e.type) {
      case "ADDED":
      case "MODIFIED":
        this.apply(obj);
        break;
      case "DELETED": {
        const gone = this.store.remove(keyOf(obj));
        this.listener.deleted(gone ?? obj);
        break;
      }
    }
  }
}
