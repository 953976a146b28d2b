// Waiting with a bound: a benchmark waits for a count to reach its target, and fails with a
// reason when the count has not moved for a while (pods that cannot be scheduled, Apps that
// stopped progressing) instead of waiting forever.
import type { KubeClient } from "../src/kube/client.ts";
import type { KubeObject } from "../src/kube/resource.ts";
import { Types } from "../src/kube/resource.ts";
import type { Condition } from "../src/runtime/conditions.ts";

export const STALL_MS = Number(process.env.BENCH_STALL_S ?? 120) * 1000;
/** Long waits say how far they are every BENCH_PROGRESS_S (60) s, so a long run can be judged early. */
const PROGRESS_MS = Number(process.env.BENCH_PROGRESS_S ?? 60) * 1000;

export class Stalled extends Error {}

/**
 * Polls count() every pollMs until it reaches target. Throws Stalled when it did not grow for
 * stallMs, with diagnose()'s account of what is stuck.
 */
export async function waitForCount(what: string, target: number, count: () => number | Promise<number>, diagnose: () => Promise<string>, stallMs = STALL_MS, pollMs = 100): Promise<void> {
  let best = -1;
  const start = performance.now();
  let movedAt = start;
  let saidAt = start;
  for (;;) {
    const n = await count();
    if (n >= target) return;
    if (performance.now() - saidAt >= PROGRESS_MS) {
      saidAt = performance.now();
      console.log(`  ${what}: ${n}/${target} after ${Math.round((saidAt - start) / 1000)} s`);
    }
    if (n > best) {
      best = n;
      movedAt = performance.now();
    } else if (performance.now() - movedAt > stallMs) {
      throw new Stalled(`${what}: stuck at ${n}/${target} for ${Math.round(stallMs / 1000)} s\n${await diagnose()}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Counts of the distinct values, largest first, as "  N × value" lines (at most `top`). */
export function tally(values: readonly string[], top = 5): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([v, n]) => `  ${n} × ${v}`)
    .join("\n");
}

type Pod = KubeObject & { status?: { phase?: string; conditions?: Condition[] } };

/** Why the namespace's pods are not running: the scheduler's verdicts on the Pending ones. */
export async function pendingPods(c: KubeClient, namespace: string): Promise<string> {
  const pending = (await c.list<Pod>(Types.Pod, { namespace, fieldSelector: "status.phase=Pending" })).items;
  if (!pending.length) return `no pod of ${namespace} is Pending`;
  const why = pending.map((p) => {
    const sched = p.status?.conditions?.find((x) => x.type === "PodScheduled");
    return sched?.status === "False" ? `${sched.reason}: ${sched.message}` : "scheduled, not started";
  });
  return `${pending.length} pods of ${namespace} Pending:\n${tally(why)}`;
}

/** Why objects are not Ready: their Ready conditions' reasons and messages (or their absence). */
export function notReady(objs: readonly { status?: { conditions?: Condition[] } }[]): string {
  const stuck = objs.map((o) => o.status?.conditions?.find((x) => x.type === "Ready")).filter((r) => r?.status !== "True");
  return `${stuck.length} not Ready:\n${tally(stuck.map((r) => (r ? `${r.reason}: ${r.message.replace(/v\d+|\d+\/\d+/g, "…")}` : "no status yet")))}`;
}

/** Says `what: count()/target` every BENCH_PROGRESS_S until the returned stop() is called. */
export function sayProgress(what: string, target: number, count: () => number): () => void {
  const start = performance.now();
  const timer = setInterval(() => console.log(`  ${what}: ${count()}/${target} after ${Math.round((performance.now() - start) / 1000)} s`), PROGRESS_MS);
  return () => clearInterval(timer);
}
