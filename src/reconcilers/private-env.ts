// An App's private environment: a Secret owned by the App and labelled with its name (what the
// App reconciler trusts). Written by the dialects (env:set, secrets of a cluster job) and by the
// ClusterSettings reconciler.
import type { KubeClient } from "../kube/client.ts";
import { isAlreadyExists, isNotFound } from "../kube/client.ts";
import type { KubeObject } from "../kube/resource.ts";
import { Types } from "../kube/resource.ts";
import type { App } from "../model/kinds.ts";
import { Labels } from "../model/kinds.ts";
import { withOwner } from "../runtime/status.ts";

export const privateEnvSecretName = (app: string) => `${app}-private-env`;
type Secret = KubeObject & { data?: Record<string, string> };

/** The App's private environment, decoded ({} when it has none). */
export async function readPrivateEnv(client: KubeClient, app: App): Promise<Record<string, string>> {
  if (!app.spec.privateEnvSecret) return {};
  const s = await client.getOrUndefined<Secret>(Types.Secret, app.metadata.namespace, app.spec.privateEnvSecret);
  return Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

/**
 * Sets and removes keys of the App's private environment Secret (created owned by the App
 * and labelled for it). A merge patch of single keys: concurrent changes of different keys
 * all land. Returns the Secret's name.
 */
export async function changePrivateEnv(client: KubeClient, app: App, set: Record<string, string>, unset: string[]): Promise<string> {
  const name = privateEnvSecretName(app.metadata.name ?? "");
  const data: Record<string, string | null> = Object.fromEntries(unset.map((k) => [k, null]));
  for (const [k, v] of Object.entries(set)) data[k] = Buffer.from(v).toString("base64");
  const secret = withOwner({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: app.metadata.namespace, labels: { [Labels.app]: app.metadata.name ?? "", [Labels.managedBy]: "berth" } }, type: "Opaque" }, app);
  try {
    await client.mergePatch(Types.Secret, app.metadata.namespace, name, { metadata: { labels: secret.metadata.labels }, data });
  } catch (e) {
    if (!isNotFound(e)) throw e;
    const created = { ...secret, data: Object.fromEntries(Object.entries(data).filter((kv): kv is [string, string] => kv[1] !== null)) };
    await client.create(Types.Secret, created).catch(async (err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
      await client.mergePatch(Types.Secret, app.metadata.namespace, name, { data });
    });
  }
  return name;
}

/** Replaces the private environment's whole content. */
export async function setPrivateEnv(client: KubeClient, app: App, env: Record<string, string>): Promise<string> {
  const current = await readPrivateEnv(client, app);
  return changePrivateEnv(client, app, env, Object.keys(current).filter((k) => !(k in env)));
}
