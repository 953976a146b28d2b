// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics:
// acquire when the lease is free or its holder has not renewed within leaseDuration (by our
// own clock, from when we last saw the record change); renew every retryPeriod; when a renew
// has not succeeded within renewDeadline, leadership is lost and onStoppedLeading runs at
// once; on clean shutdown the lease is released so a successor need not wait.
import type { KubeClient } from "../kube/client.ts";
import { isAlreadyExists, isConflict, isNotFound } from "../kube/client.ts";
import type { KubeObject } from "../kube/resource.ts";
import { Types } from "../kube/resource.ts";
import type { Logger } from "../log.ts";
import { sleep } from "./backoff.ts";
import { microTime } from "./conditions.ts";
import { leaderMetrics } from "./metrics.ts";

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
type Lease = KubeObject & { spec?: LeaseSpec };

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observed?: { record: string; at: number };
  private leading = false;

  constructor(
    private readonly client: KubeClient,
    private readonly o: LeaderElectionOptions,
    private readonly log: Logger,
  ) {
    this.leaseDurationMs = o.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = o.retryPeriodMs ?? 2_000;
    leaderMetrics.masterStatus.set({ name: o.name }, 0);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until elected, then calls lead(signal) and keeps renewing. When leadership is
   * lost, lead's signal aborts and run() resolves with "lost"; when the caller's signal
   * aborts, the lease is released and run() resolves with "stopped".
   */
  async run(signal: AbortSignal, lead: (signal: AbortSignal) => Promise<void>): Promise<"lost" | "stopped"> {
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) await sleep(this.retryPeriodMs, signal);
    if (signal.aborted) return "stopped";
    this.setLeading(true);
    this.log.info("became leader", { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity });
    const leadership = new AbortController();
    const leading = lead(AbortSignal.any([signal, leadership.signal])).catch((e: unknown) => {
      this.log.error("leader work failed", { error: String(e) });
    });
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(this.retryPeriodMs, signal);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew >= this.renewDeadlineMs) {
        this.log.error("leadership lost: the lease was not renewed within the renew deadline", { renewDeadlineMs: this.renewDeadlineMs });
        this.setLeading(false);
        leadership.abort();
        await leading;
        return "lost";
      }
    }
    leadership.abort();
    await leading;
    await this.release();
    this.setLeading(false);
    return "stopped";
  }

  private setLeading(v: boolean): void {
    this.leading = v;
    leaderMetrics.masterStatus.set({ name: this.o.name }, v ? 1 : 0);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    // A request may not outlive the renew deadline: a hung call must not hide a lost lease.
    const timeoutMs = Math.max(500, Math.min(this.renewDeadlineMs / 2, this.retryPeriodMs * 2));
    const now = new Date();
    const mine: LeaseSpec = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      let lease: Lease;
      try {
        lease = await this.client.get<Lease>(Types.Lease, this.o.namespace, this.o.name, { timeoutMs });
      } catch (e) {
        if (!isNotFound(e)) throw e;
        await this.client.create<Lease>(Types.Lease, { metadata: { name: this.o.name, namespace: this.o.namespace }, spec: mine }, { timeoutMs });
        this.observe(mine);
        return true;
      }
      const spec = lease.spec ?? {};
      this.observe(spec);
      const holder = spec.holderIdentity ?? "";
      const iHold = holder === this.o.identity;
      const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
      if (holder && !iHold && this.observed && this.observed.at + durationMs > Date.now()) return false;
      const next: LeaseSpec = iHold
        ? { ...spec, renewTime: mine.renewTime, leaseDurationSeconds: mine.leaseDurationSeconds }
        : { ...mine, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
      // The resourceVersion makes this a compare-and-swap: a concurrent writer gets 409.
      await this.client.replace<Lease>(Types.Lease, { ...lease, spec: next }, { timeoutMs });
      this.observe(next);
      return true;
    } catch (e) {
      if (!isConflict(e) && !isAlreadyExists(e)) this.log.warn("lease update failed", { error: String(e) });
      return false;
    }
  }

  private observe(spec: LeaseSpec): void {
    const record = `${spec.holderIdentity}|${spec.renewTime}`;
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
  }

  /** Gives the lease up: holder cleared, duration 1 s, as client-go's ReleaseOnCancel. */
  private async release(): Promise<void> {
    try {
      const lease = await this.client.get<Lease>(Types.Lease, this.o.namespace, this.o.name);
      if (lease.spec?.holderIdentity !== this.o.identity) return;
      const now = microTime(new Date());
      await this.client.replace<Lease>(Types.Lease, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
      });
      this.log.info("released the lease");
    } catch (e) {
      this.log.warn("could not release the lease", { error: String(e) });
    }
  }
}
