// Shared set-up for integration tests: they run against the real local control plane that
// hack/test.sh starts (or any cluster named by KUBECONFIG), never a mock.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";

const run = promisify(execFile);

export function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** kubectl from the cached build, against the test cluster. */
export async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run(process.env.BERTH_KUBECTL ?? "kubectl", args, { maxBuffer: 64 << 20 });
  return stdout;
}

/** kubectl with a manifest on stdin. Resolves with stdout, rejects with stderr in the message. */
export function kubectlStdin(input: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.env.BERTH_KUBECTL ?? "kubectl", args, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(" ")}: ${stderr || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

/** A namespace of its own for one test file; deleted (without waiting) afterwards. */
export async function testNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await kubeConfig().makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await kubeConfig().makeApiClient(k8s.CoreV1Api).deleteNamespace({ name }).catch(() => undefined);
}

/** Polls fn until it returns a value other than undefined/false, or fails with the last value seen. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A namespace and a public Pool on the real node group (its taint tolerated), as YAML for kubectl apply. */
export function realPoolManifest(ns: string, pool: string): string {
  return `
apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: berth.dev/v1alpha1
kind: Pool
metadata: {name: ${pool}}
spec:
  public: true
  namespace: ${ns}
  nodeSelector: {berth.dev/node-group: real}
  tolerations: [{key: berth.dev/real-node, operator: Exists, effect: NoSchedule}]
`;
}
