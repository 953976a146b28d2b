// One-off commands (Deis `run`, tsuru `app run`): a Job from the app's current release, its
// exit code from the Job's outcome and its output from the pod's log.
import { randomBytes } from "node:crypto";
import { Types } from "../../kube/resource.ts";
import type { App } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { ApiError, badRequest } from "../errors.ts";

/** A one-off command: a Job from the current release; rc from its outcome, output from its log. */
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
        spec: { restartPolicy: "Never", containers: [{ name: "run", image: release.spec.image, command: ["sh", "-c", command], envFrom: [{ secretRef: { name: release.spec.envSecretName } }] }] },
      },
    },
  });
  type Job = { status?: { succeeded?: number; failed?: number } };
  for (let i = 0; i < 600; i++) {
    const job = (await deps.client.get(Types.Job, ns, name)) as unknown as Job;
    if (job.status?.succeeded || job.status?.failed) {
      const pods = await deps.client.list(Types.Pod, { namespace: ns, labelSelector: `job-name=${name}` });
      const pod = pods.items[0]?.metadata.name;
      const output = pod ? await deps.client.requestText(`/api/v1/namespaces/${ns}/pods/${pod}/log`).catch(() => "") : "";
      return { rc: job.status.succeeded ? 0 : 1, output };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ApiError(504, "the command did not finish within 60 s");
}
