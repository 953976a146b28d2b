import { BerthTypes } from "../model/kinds.ts";
import type { Token } from "../model/kinds.ts";
import { TokenReconciler } from "../reconcilers/token.ts";
import type { Manager } from "../runtime/manager.ts";

export function setupTokenController(mgr: Manager): void {
  // Bearer tokens are looked up by hash (the API server shares this cache).
  mgr.informers.informerFor<Token>(BerthTypes.Token).addIndex("hash", (t) => [t.spec.tokenHash ?? t.status?.tokenHash ?? ""]);
  mgr.controller("token").for(BerthTypes.Token).complete(new TokenReconciler(mgr.client, mgr.informers));
}
