// Waiter's /apps and /apps/{service-id} over Apps and their Releases (see services.ts).
// Callers see the services of the Apps they may see, as in every dialect.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { Types, keyOf } from "../../kube/resource.ts";
import { recordedLastRequest } from "../../router/wake.ts";
import { badRequest, fromKubernetes, notFound } from "../errors.ts";
import { canSeeApp } from "../identity/principal.ts";
import type { Principal } from "../identity/principal.ts";
import type { App } from "../../model/kinds.ts";
import { waiterCaller } from "./auth.ts";
import { waiterServices } from "./service-requests.ts";
import type { Pod, ServiceView } from "./services.ts";
import { currentRelease, releasePods, serviceDetail, serviceStatus, serviceSummary, sourceTokens } from "./services.ts";

type Query = Record<string, string | string[] | undefined>;
const first = (req: FastifyRequest, k: string) => {
  const v = ((req.query ?? {}) as Query)[k];
  return Array.isArray(v) ? v[0] : v;
};

/** Every service (release) of every App the caller may see; only the current one has instances. */
function views(deps: ApiDeps, p: Principal, currentOnly: boolean): ServiceView[] {
  const out: ServiceView[] = [];
  for (const app of deps.apps.apps().filter((a: App) => canSeeApp(p, a))) {
    const releases = deps.apps.releases(app);
    const cur = currentRelease(app, releases);
    if (!cur) continue;
    const pods = deps.apps.pods(app) as Pod[];
    // The annotation is written at most once a minute and reaches the cache a moment later; requests served here count at once.
    const lastRequestAt = Math.max(recordedLastRequest(app), waiterServices(deps).activity.get(keyOf(app)).lastRequestAt);
    for (const r of currentOnly ? [cur] : releases) out.push({ app, release: r, current: r === cur, pods: releasePods(pods, r), lastRequestAt });
  }
  return out;
}

function find(deps: ApiDeps, p: Principal, serviceId: string): ServiceView {
  const v = views(deps, p, false).find((x) => x.release.spec.contentHash === serviceId);
  if (!v) throw notFound(`No service found with id ${serviceId}`);
  return v;
}

export function serviceRoutes(scope: FastifyInstance, deps: ApiDeps): void {
  scope.get("/apps", async (req) => {
    const p = await waiterCaller(deps, req);
    const token = first(req, "token");
    const withParameters = first(req, "effective-parameters") === "true";
    // Services with no instance (killed, asleep, or made by /service-id only) are not running: not listed, as in Waiter.
    return views(deps, p, true)
      .filter((v) => serviceStatus(v) !== "Inactive")
      .filter((v) => token === undefined || sourceTokens(v.app).some((s) => s.some((t) => t.token === token)))
      .map((v) => serviceSummary(v, withParameters));
  });

  scope.get<{ Params: { service_id: string } }>("/apps/:service_id", async (req) => {
    const p = await waiterCaller(deps, req);
    return serviceDetail(find(deps, p, req.params.service_id), first(req, "effective-parameters") === "true");
  });

  // Kills every instance: the App sleeps (0 replicas, the controller converges); a later
  // request through the router wakes it, as Waiter restarts a killed service on demand.
  scope.delete<{ Params: { service_id: string } }>("/apps/:service_id", async (req) => {
    const p = await waiterCaller(deps, req);
    const v = find(deps, p, req.params.service_id);
    if (v.current && v.app.spec.state !== "Stopped" && v.app.spec.state !== "Sleeping") {
      await deps.apps.patch(v.app, { state: "Sleeping" }, p.name);
    }
    return { success: true, "service-id": req.params.service_id, "routers-agree": true };
  });

  // waiter-client action.py send_signal_to_instance_on_cluster: POST /apps/{id}/instance/{instance-id}/{kill|expire},
  // answered {"signal-response": {"success", "message", ...}} (core.clj signal-instance handler). Both delete the
  // instance's pod (force=true without grace); its Deployment replaces it, as Waiter replaces an expired instance.
  scope.post<{ Params: { service_id: string; instance_id: string; signal: string }; Querystring: { force?: string } }>("/apps/:service_id/instance/:instance_id/:signal", async (req) => {
    const p = await waiterCaller(deps, req);
    const { service_id: serviceId, instance_id: instanceId, signal } = req.params;
    if (signal !== "kill" && signal !== "expire") throw badRequest(`Unsupported signal type ${signal}`);
    const v = find(deps, p, serviceId);
    const podName = instanceId.startsWith(`${serviceId}.`) ? instanceId.slice(serviceId.length + 1) : "";
    const pod = v.pods.find((x) => x.metadata.name === podName && !x.metadata.deletionTimestamp);
    if (!pod) throw notFound(`No active instance with ID ${instanceId}`);
    try {
      await deps.client.delete(Types.Pod, pod.metadata.namespace, podName, first(req, "force") === "true" ? { gracePeriodSeconds: 0 } : {});
    } catch (e) {
      throw fromKubernetes(e, `instance ${instanceId}`);
    }
    const message = `Successfully ${signal === "kill" ? "killed" : "expired"} instance`;
    return { "signal-response": { success: true, "instance-id": instanceId, "service-id": serviceId, "signal-type": signal, message, status: 200 }, "source-router-id": "berth", status: 200 };
  });
}
