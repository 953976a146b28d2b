// One-off commands (Deis `run`, tsuru `app run`): a Job from the app's current release, placed
// like the app's pods (its pool's nodes), its exit code and output from the Job's pod.
import { randomBytes } from "node:crypto";
import { Types } from "../../kube/resource.ts";
import type { KubeObject } from "../../kube/resource.ts";
import type { App } from "../../model/kinds.ts";
import { poolFor } from "../../reconcilers/desired/admission.ts";
import { podPlacement } from "../../reconcilers/desired/workloads.ts";
import type { ApiDeps } from "../deps.ts";
import { ApiError, badRequest } from "../errors.ts";

type Job = KubeObject & { status?: { succeeded?: number; failed?: number } };
type Pod = KubeObject & { status?: { containerStatuses?: { state?: { terminated?: { exitCode?: number } } }[] } };

/** A one-off command: a Job from the current release; rc and output from its pod. */
export async function runOnce(deps: ApiDeps, app: App, command: string): Promise<{ rc: number; output: string }> {
  const release = deps.apps.releases(app).find((r) => r.spec.version === app.status?.currentReleaseVersion);
  if (!release || release.spec.image.startsWith("registry.k8s.io/pause")) throw badRequest("No build associated with this release to run this command", { detail: ["No build associated with this release to run this command"] });
  const name = `${app.metadata.name}-run-${randomBytes(3).toString("hex")}`;
  const ns = app.metadata.namespace;
  await deps.client.create(Types.Job, {
    metadata: { name, namespace: ns, labels: { "berth.dev/app": app.metadata.name ?? "", "app.kubernetes.io/managed-by": "berth" } },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 300,
      template: {
        metadata: { labels: { "berth.dev/app": app.metadata.name ?? "", "berth.dev/process": "run" } },
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "run", image: release.spec.image, command: ["sh", "-c", command], envFrom: [{ secretRef: { name: release.spec.envSecretName } }] }],
          ...podPlacement(app, poolFor(app, deps.apps.pools())),
        },
      },
    },
  });
  for (let i = 0; i < 1200; i++) {
    const job = await deps.client.get<Job>(Types.Job, ns, name);
    if (job.status?.succeeded || job.status?.failed) {
      const pods = await deps.client.list<Pod>(Types.Pod, { namespace: ns, labelSelector: `job-name=${name}` });
      const pod = pods.items[0];
      const output = pod ? await deps.client.requestText(`/api/v1/namespaces/${ns}/pods/${pod.metadata.name}/log`).catch(() => "") : "";
      // The container's own exit code where a kubelet ran it; the Job's outcome otherwise (KWOK).
      const exitCode = pod?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
      return { rc: exitCode ?? (job.status.succeeded ? 0 : 1), output };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ApiError(504, "the command did not finish within 120 s");
}
