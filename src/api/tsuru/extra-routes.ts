// tsuru unit autoscaling (App.spec.autoscaling: an HPA), service instance team grants,
// event info, and one-off commands.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { keyOf } from "../../kube/resource.ts";
import type { ServiceInstance } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import { runOnce } from "../apps/run.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, fromKubernetes, notFound } from "../errors.ts";
import { canSeeApp, canSeeInstance, requireApp, requireTeamMember } from "../identity/principal.ts";
import { caller, form, int, required, str, streamed } from "./http.ts";
import { releaseEventId } from "./object-id.ts";
import { eventView } from "./views.ts";

type P<T extends string> = { Params: Record<T, string> };

export function extraRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { apps, client, informers } = deps;

  s.get<P<"app">>("/apps/:app/units/autoscale", async (req) => {
    const app = requireApp(caller(deps, req), apps.app(req.params.app), req.params.app);
    const a = app.spec.autoscaling;
    if (!a) return [];
    return [{ process: a.process ?? app.spec.processes[0]?.name ?? "", minUnits: a.minReplicas, maxUnits: a.maxReplicas, averageCPU: `${a.targetCPUUtilizationPercentage ?? 80}%`, version: 0 }];
  });
  s.post<P<"app">>("/apps/:app/units/autoscale", async (req, reply) => {
    const p = caller(deps, req);
    const app = requireApp(p, apps.app(req.params.app), req.params.app);
    const f = form(req);
    const process = str(f, "process") ?? app.spec.processes[0]?.name ?? "";
    if (!app.spec.processes.some((x) => x.name === process)) throw badRequest(`process "${process}" not found`);
    const min = int(f, "minUnits");
    const max = int(f, "maxUnits");
    const cpuRaw = (str(f, "averageCPU") ?? "80").replace(/%$/, "");
    const cpu = cpuRaw.endsWith("m") ? Math.round(Number(cpuRaw.slice(0, -1)) / 10) : Number(cpuRaw);
    if (min < 1 || max < min) throw badRequest("minUnits must be at least 1 and maxUnits at least minUnits");
    if (!Number.isInteger(cpu) || cpu < 1 || cpu > 100) throw badRequest("averageCPU must be a percentage between 1 and 100");
    await apps.patch(app, { autoscaling: { process, minReplicas: min, maxReplicas: max, targetCPUUtilizationPercentage: cpu } }, p.email ?? p.name);
    return reply.code(200).send();
  });
  s.delete<P<"app">>("/apps/:app/units/autoscale", async (req, reply) => {
    const p = caller(deps, req);
    const app = requireApp(p, apps.app(req.params.app), req.params.app);
    if (!app.spec.autoscaling) throw notFound("the app has no autoscaling");
    await apps.patch(app, { autoscaling: null }, p.email ?? p.name);
    return reply.code(200).send();
  });

  const grant = (on: boolean) => async (req: FastifyRequest<P<"service" | "instance" | "team">>, reply: FastifyReply) => {
    const p = caller(deps, req);
    const si = informers
      .informerFor<ServiceInstance>(BerthTypes.ServiceInstance)
      .store.list()
      .find((i) => i.spec.serviceClass === req.params.service && i.metadata.name === req.params.instance);
    if (!si || !canSeeInstance(p, si)) throw notFound("Service instance not found");
    if (!deps.identity.team(req.params.team)) throw notFound("Team not found");
    if (si.spec.owner) requireTeamMember(p, si.spec.owner);
    const teams = on ? [...new Set([...(si.spec.teams ?? []), req.params.team])] : (si.spec.teams ?? []).filter((t) => t !== req.params.team);
    const updated = await client.mergePatch<ServiceInstance>(BerthTypes.ServiceInstance, si.metadata.namespace, si.metadata.name ?? "", { spec: { teams } }).catch((e: unknown) => {
      throw fromKubernetes(e, "service instance");
    });
    await apps.synced(BerthTypes.ServiceInstance, keyOf(updated), updated.metadata.resourceVersion);
    return reply.code(200).send();
  };
  s.put<P<"service" | "instance" | "team">>("/services/:service/instances/permission/:instance/:team", grant(true));
  s.delete<P<"service" | "instance" | "team">>("/services/:service/instances/permission/:instance/:team", grant(false));

  s.get<P<"uuid">>("/events/:uuid", async (req) => {
    const p = caller(deps, req);
    for (const a of apps.apps().filter((x) => canSeeApp(p, x))) {
      const r = apps.releases(a).find((x) => releaseEventId(a, x.spec.version) === req.params.uuid);
      if (r) {
        return eventView(a, r);
      }
    }
    throw notFound("Event not found.");
  });

  s.post<P<"app">>("/apps/:app/run", (req, reply) => {
    const app = requireApp(caller(deps, req), apps.app(req.params.app), req.params.app);
    const command = required(form(req), "command", "You must provide the command to run");
    return streamed(reply, async (out) => {
      const { rc, output } = await runOnce(deps, app, command);
      if (output) out.message(output);
      if (rc !== 0) throw new Error(`the command exited with code ${rc}`);
    });
  });
}
