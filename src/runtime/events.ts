// Kubernetes Events for user-visible transitions (kubectl describe shows them), with
// de-duplication as client-go's recorder does: a repeat of the same event bumps the count of
// the existing Event instead of creating a new one, repeats are written at most once per
// interval, and each object has a token bucket so a flapping object cannot flood the API.
import { randomBytes } from "node:crypto";
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject } from "../kube/resource.ts";
import { Types } from "../kube/resource.ts";
import type { Logger } from "../log.ts";
import { rfc3339 } from "./conditions.ts";
import { eventMetrics } from "./metrics.ts";
import { TokenBuckets } from "./token-buckets.ts";

export type EventType = "Normal" | "Warning";

interface Seen {
  name: string;
  namespace: string;
  count: number;
  lastWrite: number;
  firstTimestamp: string;
}

export interface EventRecorderOptions {
  component?: string;
  /** Repeats of one event are written at most this often. */
  repeatIntervalMs?: number;
  burst?: number;
  refillEveryMs?: number;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly buckets: TokenBuckets;
  private readonly component: string;
  private readonly repeatIntervalMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    o: EventRecorderOptions = {},
  ) {
    this.component = o.component ?? "berth-controller";
    this.repeatIntervalMs = o.repeatIntervalMs ?? 30_000;
    this.buckets = new TokenBuckets(o.burst ?? 25, o.refillEveryMs ?? 300_000);
  }

  /** Records an event; never throws (events are best effort). */
  async record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const uid = obj.metadata.uid ?? "";
    const key = `${uid}|${type}|${reason}|${message}`;
    const now = Date.now();
    const prev = this.seen.get(key);
    try {
      if (prev) {
        prev.count++;
        if (now - prev.lastWrite < this.repeatIntervalMs || !this.buckets.take(uid, now)) {
          eventMetrics.suppressed.inc({ reason });
          return;
        }
        prev.lastWrite = now;
        await this.client.mergePatch(Types.Event, prev.namespace, prev.name, { count: prev.count, lastTimestamp: rfc3339(new Date(now)) });
        return;
      }
      if (!this.buckets.take(uid, now)) {
        eventMetrics.suppressed.inc({ reason });
        return;
      }
      const namespace = obj.metadata.namespace || "default";
      const name = `${obj.metadata.name}.${randomBytes(8).toString("hex")}`;
      const ts = rfc3339(new Date(now));
      this.seen.set(key, { name, namespace, count: 1, lastWrite: now, firstTimestamp: ts });
      if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value as string);
      await this.client.create(Types.Event, {
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace: obj.metadata.namespace,
          uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: ts,
        lastTimestamp: ts,
        source: { component: this.component },
        reportingComponent: this.component,
      });
    } catch (e) {
      this.log.warn("could not record event", { reason, error: String(e) });
    }
  }
}
