import { BerthTypes } from "../model/kinds.ts";
import { TeamReconciler } from "../reconcilers/team.ts";
import type { Manager } from "../runtime/manager.ts";

export function setupTeamController(mgr: Manager): void {
  mgr.controller("team").for(BerthTypes.Team).complete(new TeamReconciler(mgr.client, mgr.informers));
}
