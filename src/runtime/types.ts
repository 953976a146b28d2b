// The contract between the runtime and the reconcilers.
import type { Logger } from "../log.ts";

export interface ObjectKey {
  namespace?: string;
  name: string;
}

export interface ReconcileResult {
  /** Reconcile this key again after this long, even without a change (timed work). */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  log: Logger;
  reconcileID: string;
  /** Aborted when the process shuts down or loses leadership. */
  signal: AbortSignal;
}

export interface Reconciler {
  reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void>;
}

/** An error that retrying cannot fix (invalid spec, missing reference the user must add). */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentError";
  }
}
