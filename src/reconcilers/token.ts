// Token reconciler: generates the credential of a Token created with kubectl into an owned
// Secret (read it once, then delete the Secret if you like); only the SHA-256 hash goes into
// the Token's status. Expired tokens get Ready=False/Expired and stop working in the API.
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject } from "../kube/resource.ts";
import { Types } from "../kube/resource.ts";
import type { Token } from "../model/kinds.ts";
import { BerthTypes, Labels } from "../model/kinds.ts";
import { newToken, tokenHash } from "../api/identity/secrets.ts";
import { setCondition } from "../runtime/conditions.ts";
import type { InformerFactory } from "../runtime/informer.ts";
import { updateStatus, withOwner } from "../runtime/status.ts";
import type { ObjectKey, ReconcileResult, Reconciler } from "../runtime/types.ts";

export const tokenSecretName = (token: string) => `${token}-token`;

export class TokenReconciler implements Reconciler {
  constructor(
    private readonly client: KubeClient,
    private readonly informers: InformerFactory,
    private readonly now: () => number = Date.now,
  ) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult | void> {
    const token = this.informers.informerFor<Token>(BerthTypes.Token).store.get(`${key.namespace}/${key.name}`);
    if (!token || token.metadata.deletionTimestamp) return;
    let hash = token.spec.tokenHash ?? token.status?.tokenHash;
    let secretName = token.status?.secretName;
    if (!hash) {
      secretName = tokenSecretName(key.name);
      // A Secret left by an earlier attempt whose status write failed is reused.
      const existing = await this.client.getOrUndefined<KubeObject & { data?: Record<string, string> }>(Types.Secret, key.namespace, secretName);
      const value = existing?.data?.token ? Buffer.from(existing.data.token, "base64").toString("utf8") : newToken();
      if (!existing) await this.client.create(
        Types.Secret,
        withOwner(
          {
            metadata: { name: secretName, namespace: key.namespace, labels: { [Labels.managedBy]: "berth" } },
            type: "Opaque",
            immutable: true,
            data: { token: Buffer.from(value).toString("base64") },
          },
          token,
        ),
      );
      hash = tokenHash(value);
    }
    const expiresAt = token.spec.expires ? Date.parse(token.spec.expires) : undefined;
    const expired = expiresAt !== undefined && expiresAt <= this.now();
    const gen = token.metadata.generation;
    await updateStatus(this.client, BerthTypes.Token, token, {
      ...token.status,
      observedGeneration: gen,
      tokenHash: hash,
      ...(secretName ? { secretName } : {}),
      conditions: setCondition(
        token.status?.conditions,
        expired
          ? { type: "Ready", status: "False", reason: "Expired", message: `the token expired at ${token.spec.expires}`, observedGeneration: gen }
          : { type: "Ready", status: "True", reason: "Active", message: secretName ? `the value is in Secret ${secretName}` : "active", observedGeneration: gen },
      ),
    });
    if (!expired && expiresAt !== undefined) return { requeueAfterMs: Math.min(expiresAt - this.now() + 1000, 24 * 3600_000) };
  }
}
