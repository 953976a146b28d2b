// Wiring of the ClusterSettings controller: a team's settings, and what its jobs depend on.
import type { KubeObject } from "../kube/resource.ts";
import { Types } from "../kube/resource.ts";
import type { App, ClusterSettings } from "../model/kinds.ts";
import { BerthTypes } from "../model/kinds.ts";
import { ClusterLabels } from "../model/cluster-settings.ts";
import { ClusterSettingsReconciler } from "../reconcilers/cluster-settings.ts";
import type { Manager } from "../runtime/manager.ts";

/** namespace: Berth's own, where the teams' cluster API secrets are kept. */
export function setupClusterSettingsController(mgr: Manager, namespace: string): void {
  const f = mgr.informers;
  const teamKey = (o: KubeObject) => {
    const team = o.metadata.labels?.[ClusterLabels.team];
    return team ? [{ name: team }] : [];
  };
  const all = () => f.informerFor<ClusterSettings>(BerthTypes.ClusterSettings).store.list().map((cs) => ({ name: cs.metadata.name ?? "" }));
  mgr
    .controller("clustersettings")
    .for(BerthTypes.ClusterSettings)
    // A job changed or deleted by hand converges back (counts and pool are left as they are).
    .watches<App>(BerthTypes.App, (a) => (a.metadata.labels?.[ClusterLabels.job] === "true" ? teamKey(a) : []))
    // A secret a job names: its private environment follows the secret's content.
    .watches(Types.Secret, teamKey, { namespace, labelSelector: ClusterLabels.secret })
    // Settings applied before their team, or before a default pool existed.
    .watches(BerthTypes.Team, (t) => [{ name: t.metadata.name ?? "" }])
    .watches(BerthTypes.Pool, all)
    .complete(new ClusterSettingsReconciler(mgr.client, f, namespace));
}
