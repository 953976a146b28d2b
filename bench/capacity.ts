// Room for a benchmark's pods: the pod slots on nodes a plain pod can land on (Ready, schedulable,
// no NoSchedule/NoExecute taint), less the pods already there. Short of room on the local
// cluster's KWOK nodes (fake: their capacity is a number), the nodes are resized; elsewhere the
// benchmark refuses with what to do, instead of leaving pods Pending and waiting forever.
import type { KubeClient } from "../src/kube/client.ts";
import type { KubeObject } from "../src/kube/resource.ts";
import { Types } from "../src/kube/resource.ts";

type Node = KubeObject & {
  spec?: { unschedulable?: boolean; taints?: { key: string; effect: string }[] };
  status?: { allocatable?: { pods?: string }; conditions?: { type: string; status: string }[] };
};
type Pod = KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } };

export const KWOK_FAKE = "kwok.x-k8s.io/node";

/** A pod count as the API writes it ("110", "2k", "1M"). */
export function podCount(q: string | undefined): number {
  const m = /^(\d+)([kM]?)$/.exec(q ?? "");
  return m ? Number(m[1]) * (m[2] === "k" ? 1e3 : m[2] === "M" ? 1e6 : 1) : 0;
}

/** Nodes a pod without tolerations or node selector can be scheduled to. */
export function openNodes(nodes: readonly Node[]): Node[] {
  return nodes.filter(
    (n) =>
      !n.spec?.unschedulable &&
      !(n.spec?.taints ?? []).some((t) => t.effect === "NoSchedule" || t.effect === "NoExecute") &&
      (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
  );
}

/** Makes room for `needed` more pods, or throws saying how to make it. Returns what it did. */
export async function ensurePodRoom(c: KubeClient, needed: number): Promise<string> {
  const open = openNodes((await c.list<Node>(Types.Node)).items);
  const used = new Map<string, number>();
  for (const p of (await c.list<Pod>(Types.Pod, { fieldSelector: "status.phase!=Succeeded,status.phase!=Failed" })).items) {
    if (p.spec?.nodeName) used.set(p.spec.nodeName, (used.get(p.spec.nodeName) ?? 0) + 1);
  }
  const slots = (n: Node) => podCount(n.status?.allocatable?.pods);
  const free = open.reduce((sum, n) => sum + Math.max(0, slots(n) - (used.get(n.metadata.name ?? "") ?? 0)), 0);
  if (free >= needed) return `${free} pod slots free on ${open.length} open nodes (${needed} needed)`;
  const fake = open.length > 0 && open.every((n) => n.metadata.annotations?.[KWOK_FAKE] === "fake");
  if (!fake || process.env.BENCH_RESIZE === "0") {
    throw new Error(
      `not enough room for ${needed} pods: ${free} slots free on ${open.length} open nodes. ` +
        `On the local cluster: BERTH_KWOK_NODES=${Math.max(3, open.length + 1)} BERTH_KWOK_PODS=${Math.ceil((needed * 1.1) / Math.max(1, open.length))} hack/cluster.sh up`,
    );
  }
  // Fake nodes: give each its share of what is missing, plus a tenth.
  const each = Math.ceil((needed * 1.1) / open.length);
  for (const n of open) {
    const pods = String((used.get(n.metadata.name ?? "") ?? 0) + each);
    await c.mergePatch(Types.Node, undefined, n.metadata.name ?? "", { status: { capacity: { pods }, allocatable: { pods } } }, "status");
  }
  return `resized ${open.length} KWOK nodes for ${needed} pods (${free} slots were free; now ${each} more each)`;
}
