// Team reconciler: publishes the team's id as an organization of the cloud API (its uid, a
// stable UUID) in status, with a Ready condition, so kubectl shows what cloud clients use.
import type { KubeClient } from "../kube/client.ts";
import type { Team } from "../model/kinds.ts";
import { BerthTypes } from "../model/kinds.ts";
import { setCondition } from "../runtime/conditions.ts";
import type { InformerFactory } from "../runtime/informer.ts";
import { updateStatus } from "../runtime/status.ts";
import type { ObjectKey, Reconciler } from "../runtime/types.ts";

/** A team's organization id: its uid, assigned by the API server, never reused. */
export const organizationId = (team: Team): string => team.metadata.uid ?? "";

export class TeamReconciler implements Reconciler {
  constructor(
    private readonly client: KubeClient,
    private readonly informers: InformerFactory,
  ) {}

  async reconcile(key: ObjectKey): Promise<void> {
    const team = this.informers.informerFor<Team>(BerthTypes.Team).store.get(key.name);
    if (!team || team.metadata.deletionTimestamp) return;
    const gen = team.metadata.generation;
    await updateStatus(this.client, BerthTypes.Team, team, {
      ...team.status,
      observedGeneration: gen,
      organizationId: organizationId(team),
      conditions: setCondition(team.status?.conditions, { type: "Ready", status: "True", reason: "Active", message: `organization ${organizationId(team)}`, observedGeneration: gen }),
    });
  }
}
