// Waiter tokens as WaiterToken CRs in Berth's namespace. Reads come from the shared cache;
// every write is a compare-and-swap on the object's resourceVersion, with the token's If-Match
// checked against the object as read fresh from the API server, so of two writers holding the
// same ETag exactly one wins and the other gets 412.
import { createHash } from "node:crypto";
import type { KubeClient } from "../../kube/client.ts";
import { isAlreadyExists, isConflict, isNotFound } from "../../kube/client.ts";
import type { KubeObject } from "../../kube/resource.ts";
import type { WaiterToken, WaiterTokenSpec } from "../../model/kinds.ts";
import { BerthTypes, Labels } from "../../model/kinds.ts";
import type { InformerFactory } from "../../runtime/informer.ts";
import { ApiError, fromKubernetes } from "../errors.ts";
import { cacheSynced } from "../read-your-writes.ts";

/** Waiter token names may hold "$", "_", "." and capitals: the object's name is derived from the name. */
export const tokenObjectName = (token: string) => `wt-${createHash("sha256").update(token).digest("hex").slice(0, 40)}`;

export class WaiterTokenStore {
  constructor(
    private readonly client: KubeClient,
    private readonly informers: InformerFactory,
    readonly namespace: string,
  ) {
    this.informer();
  }

  private informer() {
    return this.informers.informerFor<WaiterToken>(BerthTypes.WaiterToken, { namespace: this.namespace });
  }

  /** The token as cached (deleted ones too), or undefined. */
  get(token: string): WaiterToken | undefined {
    const t = this.informer().store.get(`${this.namespace}/${tokenObjectName(token)}`);
    return t && t.spec.token === token ? t : undefined;
  }

  list(): WaiterToken[] {
    return this.informer().store.list();
  }

  private async synced(name: string, rv: string | undefined): Promise<void> {
    await cacheSynced(this.informers.informerFor<KubeObject>(BerthTypes.WaiterToken, { namespace: this.namespace }).store, `${this.namespace}/${name}`, rv);
  }

  /**
   * Writes the token's spec as compute(current) returns it, current being the object read
   * from the API server (undefined when absent); compute may throw (412 for a stale If-Match)
   * and is called again when another writer got there first.
   */
  async write(token: string, compute: (current: WaiterToken | undefined) => WaiterTokenSpec): Promise<WaiterToken> {
    const name = tokenObjectName(token);
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await this.client.getOrUndefined<WaiterToken>(BerthTypes.WaiterToken, this.namespace, name);
        const spec = compute(current);
        const written = current
          ? await this.client.replace<WaiterToken>(BerthTypes.WaiterToken, { ...current, spec })
          : await this.client.create<WaiterToken>(BerthTypes.WaiterToken, { metadata: { name, namespace: this.namespace, labels: { [Labels.managedBy]: "berth" } }, spec });
        await this.synced(name, written.metadata.resourceVersion);
        return written;
      } catch (e) {
        if ((isConflict(e) || isAlreadyExists(e)) && attempt < 20) continue;
        throw e instanceof ApiError ? e : fromKubernetes(e, `token ${token}`);
      }
    }
  }

  /** Removes the token for good, if it is still the object check was run on (else check runs again on the fresh one). */
  async hardDelete(token: string, check: (current: WaiterToken | undefined) => void): Promise<void> {
    const name = tokenObjectName(token);
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await this.client.getOrUndefined<WaiterToken>(BerthTypes.WaiterToken, this.namespace, name);
        check(current);
        if (!current) return;
        await this.client.delete(BerthTypes.WaiterToken, this.namespace, name, { uid: current.metadata.uid, resourceVersion: current.metadata.resourceVersion });
        await this.synced(name, undefined);
        return;
      } catch (e) {
        if (isNotFound(e)) continue;
        if (isConflict(e) && attempt < 20) continue;
        throw e instanceof ApiError ? e : fromKubernetes(e, `token ${token}`);
      }
    }
  }
}
