// A work queue of keys with client-go's semantics:
// - a key waiting in the queue is not added twice;
// - a key being processed is never handed to a second worker: re-adds while processing
//   are parked and queued again when the worker calls done();
// - per-key exponential backoff for failures (addRateLimited / forget);
// - addAfter for timed requeues; shutDown() stops handing out keys and lets workers drain.
import { PerKeyBackoff } from "./backoff.ts";
import { queueMetrics } from "./metrics.ts";

export interface WorkQueueOptions {
  name: string;
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly addedAt = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly backoff: PerKeyBackoff;
  private shuttingDown = false;
  private drained?: () => void;
  readonly name: string;

  constructor(o: WorkQueueOptions) {
    this.name = o.name;
    this.backoff = new PerKeyBackoff(o.backoffBaseMs ?? 5, o.backoffCapMs ?? 1000_000);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    queueMetrics.adds.inc({ name: this.name });
    this.dirty.add(key);
    this.addedAt.set(key, performance.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.take(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    queueMetrics.depth.set({ name: this.name }, this.queue.length);
  }

  private take(key: string): void {
    this.processing.add(key);
    this.dirty.delete(key);
    const at = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (at !== undefined) queueMetrics.queueDuration.observe({ name: this.name }, (performance.now() - at) / 1000);
  }

  /** The next key, or undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      queueMetrics.depth.set({ name: this.name }, this.queue.length);
      this.take(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
    else if (this.processing.size === 0 && this.shuttingDown) this.drained?.();
  }

  /** Adds the key after delayMs; an earlier pending timer for the key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.timers.set(key, { at, timer });
  }

  /** Requeues after this key's next backoff delay; returns the delay. */
  addRateLimited(key: string): number {
    const delay = this.backoff.when(key);
    queueMetrics.retries.inc({ name: this.name });
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.backoff.forget(key);
  }

  retries(key: string): number {
    return this.backoff.retries(key);
  }

  get length(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  /** Hands out keys again after shutDown (a controller that regained leadership). */
  reopen(): void {
    this.shuttingDown = false;
    this.drained = undefined;
  }

  /** Stops handing out keys; resolves when every key being processed is done. */
  shutDown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }
}
