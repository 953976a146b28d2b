// What keeps an App's units from starting, read from its pods' container states: a bad image
// (the kubelet cannot pull it) must show in the App's Ready condition, not as a silent rollout.
import type { KubeObject } from "../../kube/resource.ts";

export type PodLike = KubeObject & {
  spec?: { containers?: { name: string; image?: string }[] };
  status?: { containerStatuses?: { name: string; image?: string; state?: { waiting?: { reason?: string; message?: string } } }[] };
};

/** Waiting reasons that mean the image cannot be had. */
const IMAGE_REASONS = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable"]);

export interface PodProblem {
  reason: string;
  message: string;
}

/** The first image problem among these pods (by pod name, so the answer is stable), if any. */
export function imageProblem(pods: readonly PodLike[]): PodProblem | undefined {
  const sorted = [...pods].sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  for (const pod of sorted) {
    for (const cs of pod.status?.containerStatuses ?? []) {
      const waiting = cs.state?.waiting;
      if (!waiting?.reason || !IMAGE_REASONS.has(waiting.reason)) continue;
      const image = cs.image || pod.spec?.containers?.find((c) => c.name === cs.name)?.image || "?";
      const detail = waiting.message ? `: ${waiting.message}` : "";
      return { reason: waiting.reason, message: `image "${image}" of pod ${pod.metadata.name ?? "?"} cannot be pulled${detail}` };
    }
  }
  return undefined;
}
