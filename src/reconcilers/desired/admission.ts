// Whether an app may run in its pool with its plan. Refusals become a Ready=False condition
// with a reason (no admission webhook: nothing to deploy or certify, and GitOps tools show
// the reason as the resource's health).
import type { App, Plan, Pool } from "../../model/kinds.ts";

export type Admission = { ok: true } | { ok: false; reason: string; message: string };

export function poolFor(app: App, pools: readonly Pool[]): Pool | undefined {
  return app.spec.pool ? pools.find((p) => p.metadata.name === app.spec.pool) : pools.find((p) => p.spec.default);
}

export function planFor(app: App, plans: readonly Plan[]): Plan | undefined {
  return app.spec.plan ? plans.find((p) => p.metadata.name === app.spec.plan) : plans.find((p) => p.spec.default);
}

export function admit(app: App, pool: Pool | undefined, plan: Plan | undefined): Admission {
  if (app.spec.pool && !pool) return { ok: false, reason: "PoolNotFound", message: `pool "${app.spec.pool}" does not exist` };
  if (app.spec.plan && !plan) return { ok: false, reason: "PlanNotFound", message: `plan "${app.spec.plan}" does not exist` };
  if (pool) {
    const teams = pool.spec.teams ?? [];
    const owner = app.spec.owner;
    if (!pool.spec.public && teams.length > 0 && (!owner || !teams.includes(owner))) {
      return {
        ok: false,
        reason: "TeamNotAllowed",
        message: `team "${owner ?? "(none)"}" may not use pool "${pool.metadata.name}" (allowed: ${teams.join(", ")})`,
      };
    }
    const plans = pool.spec.plans ?? [];
    const planName = plan?.metadata.name;
    if (plans.length > 0 && (!planName || !plans.includes(planName))) {
      return {
        ok: false,
        reason: "PlanNotAllowed",
        message: `plan "${planName ?? "(none)"}" is not allowed in pool "${pool.metadata.name}" (allowed: ${plans.join(", ")})`,
      };
    }
  }
  return { ok: true };
}
