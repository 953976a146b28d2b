// The endpoint's SSH host key: from a mounted file (the chart's git.hostKeySecret), or made at
// first start and kept in a Secret of Berth's namespace, so every replica and every restart
// presents the same key and clients' known_hosts stay valid. The process keeps no state.
import { readFile } from "node:fs/promises";
import ssh2 from "ssh2";
import type { KubeClient } from "../kube/client.ts";
import { isAlreadyExists } from "../kube/client.ts";
import type { KubeObject } from "../kube/resource.ts";
import { Types } from "../kube/resource.ts";
import { Labels } from "../model/kinds.ts";
import { GIT_HOST_KEY_SECRET } from "../rbac.ts";

export const HOST_KEY_SECRET = GIT_HOST_KEY_SECRET;
export const HOST_KEY_FIELD = "ssh_host_ed25519_key";

type Secret = KubeObject & { data?: Record<string, string> };

const fromSecret = (s: Secret | undefined) => (s?.data?.[HOST_KEY_FIELD] ? Buffer.from(s.data[HOST_KEY_FIELD], "base64").toString("utf8") : undefined);

/** The private host key (OpenSSH format). */
export async function hostKey(client: KubeClient, namespace: string, file?: string): Promise<string> {
  if (file) return readFile(file, "utf8");
  const existing = fromSecret(await client.getOrUndefined<Secret>(Types.Secret, namespace, HOST_KEY_SECRET));
  if (existing) return existing;
  const made = ssh2.utils.generateKeyPairSync("ed25519", { comment: "berth-git" }).private;
  const secret: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: HOST_KEY_SECRET, namespace, labels: { [Labels.managedBy]: "berth" } },
    data: { [HOST_KEY_FIELD]: Buffer.from(made).toString("base64") },
  };
  try {
    await client.create(Types.Secret, secret);
    return made;
  } catch (e) {
    // Another replica made it first: use theirs.
    if (!isAlreadyExists(e)) throw e;
    const theirs = fromSecret(await client.getOrUndefined<Secret>(Types.Secret, namespace, HOST_KEY_SECRET));
    if (!theirs) throw new Error(`Secret ${namespace}/${HOST_KEY_SECRET} has no ${HOST_KEY_FIELD}`, { cause: e });
    return theirs;
  }
}
