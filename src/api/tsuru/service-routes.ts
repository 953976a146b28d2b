// tsuru services (the catalog: ServiceClasses) and service instances (ServiceInstances),
// with binding: binding adds the instance to App.spec.serviceBindings, which injects its
// credentials in a new release and rolls the app.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { keyOf } from "../../kube/resource.ts";
import type { App, ServiceClass, ServiceInstance } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, conflict, fromKubernetes, notFound } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { canSeeInstance, requireApp, requireTeamMember } from "../identity/principal.ts";
import { NAME } from "../identity/store.ts";
import { bool, caller, form, list, required, str, streamed, teamOrOnly } from "./http.ts";

type P<T extends string> = { Params: Record<T, string> };

export function serviceRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { apps, client, informers } = deps;
  const classes = () => informers.informerFor<ServiceClass>(BerthTypes.ServiceClass).store;
  const instances = () => informers.informerFor<ServiceInstance>(BerthTypes.ServiceInstance).store;
  const cls = (name: string) => {
    const c = classes().get(name);
    if (!c) throw notFound("Service not found");
    return c;
  };
  const instance = (p: Principal, service: string, name: string) => {
    const si = instances()
      .list()
      .find((i) => i.spec.serviceClass === service && i.metadata.name === name);
    if (!si || !canSeeInstance(p, si)) throw notFound("Service instance not found");
    return si;
  };
  const boundApps = (si: ServiceInstance) =>
    apps.apps().filter((a) => a.metadata.namespace === si.metadata.namespace && a.spec.serviceBindings?.some((b) => b.name === si.metadata.name));
  const instanceView = (si: ServiceInstance) => ({
    name: si.metadata.name,
    service_name: si.spec.serviceClass,
    plan_name: si.spec.plan ?? "",
    teams: [...new Set([si.spec.owner, ...(si.spec.teams ?? [])].filter(Boolean))],
    team_owner: si.spec.owner ?? "",
    apps: boundApps(si).map((a) => a.metadata.name),
    description: si.spec.description ?? "",
    tags: si.spec.tags ?? [],
    pool: "",
  });
  const listing = (p: Principal) =>
    classes()
      .list()
      .map((c) => {
        const mine = instances()
          .list()
          .filter((i) => i.spec.serviceClass === c.metadata.name && canSeeInstance(p, i));
        return { service: c.metadata.name, instances: mine.map((i) => i.metadata.name), plans: mine.map((i) => i.spec.plan ?? ""), service_instances: mine.map(instanceView) };
      });

  s.get("/services", async (req, reply) => {
    const out = listing(caller(deps, req));
    return out.length ? out : reply.code(204).send();
  });
  // Every readable service, with the caller's instances (bound to ?app= when given).
  s.get("/services/instances", async (req, reply) => {
    const p = caller(deps, req);
    const appName = str(form(req), "app");
    const app = appName ? apps.app(appName) : undefined;
    const out = listing(p)
      .map((x) => (app ? { ...x, service_instances: x.service_instances.filter((i) => i.apps.includes(app.metadata.name)) } : x))
      .map((x) => ({ ...x, instances: x.service_instances.map((i) => i.name), plans: x.service_instances.map((i) => i.plan_name) }))
      .sort((a, b) => String(a.service).localeCompare(String(b.service)));
    return out.length ? out : reply.code(204).send();
  });
  s.get<P<"name">>("/services/:name", async (req) => {
    const p = caller(deps, req);
    cls(req.params.name);
    return instances()
      .list()
      .filter((i) => i.spec.serviceClass === req.params.name && canSeeInstance(p, i))
      .map((i) => ({ Name: i.metadata.name, PlanName: i.spec.plan ?? "", Apps: boundApps(i).map((a) => a.metadata.name), Teams: instanceView(i).teams, ServiceName: req.params.name, Info: {} }));
  });
  s.get<P<"name">>("/services/:name/plans", async (req) => {
    caller(deps, req);
    return cls(req.params.name).spec.plans.map((pl) => ({ Name: pl.name, Description: pl.description ?? "" }));
  });
  s.get<P<"name">>("/services/:name/doc", async (req, reply) => {
    caller(deps, req);
    const c = cls(req.params.name);
    return reply.type("text/plain; charset=utf-8").send(c.spec.documentation ?? c.spec.description ?? "");
  });

  s.post<P<"service">>("/services/:service/instances", async (req, reply) => {
    const p = caller(deps, req);
    const c = cls(req.params.service);
    const f = form(req);
    const name = required(f, "name", "You must provide a name for the service instance");
    if (!NAME.test(name) || name.length > 63) throw badRequest("Invalid service instance name: use lowercase letters, numbers and dashes.");
    // The CLI sends plan= even without -p: empty means the service's first plan.
    const plan = str(f, "plan")?.trim() || c.spec.plans[0]?.name;
    if (plan && !c.spec.plans.some((x) => x.name === plan)) throw badRequest(`Plan "${plan}" not found for service "${req.params.service}"`);
    // "owner" (tsuru's compatibility name) or "teamOwner"; empty means the caller's only team.
    const owner = teamOrOnly(p, str(f, "teamOwner")?.trim() || str(f, "owner"));
    requireTeamMember(p, owner);
    const pool = str(f, "pool") ? apps.pool(str(f, "pool")!) : apps.pools().find((x) => x.spec.default || x.spec.public);
    if (!pool) throw badRequest("No pool for the instance: create a default pool first.");
    if (instances().list().some((i) => i.metadata.name === name && i.spec.serviceClass === req.params.service)) throw conflict("Service instance already exists.");
    try {
      const created = await client.create<ServiceInstance>(BerthTypes.ServiceInstance, {
        metadata: { name, namespace: apps.namespaceFor(pool) },
        spec: { serviceClass: req.params.service, ...(plan ? { plan } : {}), owner, description: str(f, "description") ?? "", tags: list(f, "tag") },
      });
      await apps.synced(BerthTypes.ServiceInstance, keyOf(created), created.metadata.resourceVersion);
    } catch (e) {
      throw fromKubernetes(e, `service instance ${name}`);
    }
    return reply.code(201).send();
  });

  s.get<P<"service" | "instance">>("/services/:service/instances/:instance", async (req) => {
    const si = instance(caller(deps, req), req.params.service, req.params.instance);
    const v = instanceView(si);
    return { Apps: v.apps, Teams: v.teams, TeamOwner: v.team_owner, Description: v.description, PlanName: v.plan_name, PlanDescription: "", Pool: "", CustomInfo: { endpoint: si.status?.endpoint ?? "" }, Tags: v.tags };
  });
  s.get<P<"service" | "instance">>("/services/:service/instances/:instance/status", async (req, reply) => {
    const si = instance(caller(deps, req), req.params.service, req.params.instance);
    const ready = si.status?.conditions?.find((c) => c.type === "Ready");
    const text = ready?.status === "True" ? `Service instance "${si.metadata.name}" is up` : `Service instance "${si.metadata.name}" is ${ready?.reason ?? "pending"}: ${ready?.message ?? ""}`;
    return reply.type("text/plain; charset=utf-8").send(text);
  });
  s.put<P<"service" | "instance">>("/services/:service/instances/:instance", async (req, reply) => {
    const p = caller(deps, req);
    const si = instance(p, req.params.service, req.params.instance);
    const f = form(req);
    const spec: Partial<ServiceInstance["spec"]> = {};
    if (str(f, "description") !== undefined) spec.description = str(f, "description");
    if (str(f, "plan")) spec.plan = str(f, "plan");
    if (str(f, "teamowner")) {
      requireTeamMember(p, str(f, "teamowner")!);
      spec.owner = str(f, "teamowner");
    }
    if (list(f, "tag").length) spec.tags = list(f, "tag");
    try {
      const updated = await client.mergePatch<ServiceInstance>(BerthTypes.ServiceInstance, si.metadata.namespace, si.metadata.name ?? "", { spec });
      await apps.synced(BerthTypes.ServiceInstance, keyOf(updated), updated.metadata.resourceVersion);
    } catch (e) {
      throw fromKubernetes(e, "service instance");
    }
    return reply.code(200).send();
  });
  s.delete<P<"name" | "instance">>("/services/:name/instances/:instance", (req, reply) => {
    const p = caller(deps, req);
    const si = instance(p, req.params.name, req.params.instance);
    const bound = boundApps(si);
    const unbindAll = bool(form(req), "unbindall");
    if (bound.length && !unbindAll) throw badRequest("This service instance is bound to at least one app. Unbind them before removing it");
    return streamed(reply, async (out) => {
      for (const a of bound) {
        await apps.patch(a, (cur) => ({ serviceBindings: (cur.spec.serviceBindings ?? []).filter((b) => b.name !== si.metadata.name) }), p.email ?? p.name);
        out.message(`Unbinding app "${a.metadata.name}"...`);
      }
      await client.delete(BerthTypes.ServiceInstance, si.metadata.namespace, si.metadata.name ?? "");
      out.message(`Service instance "${si.metadata.name}" is being removed`);
    });
  });

  const bind = (on: boolean) => (req: FastifyRequest<P<"service" | "instance" | "app">>, reply: FastifyReply) => {
    const p = caller(deps, req);
    const si = instance(p, req.params.service, req.params.instance);
    const app: App = requireApp(p, apps.app(req.params.app), req.params.app);
    if (app.metadata.namespace !== si.metadata.namespace) throw badRequest(`app "${app.metadata.name}" and instance "${si.metadata.name}" are in different pools`);
    const has = app.spec.serviceBindings?.some((b) => b.name === si.metadata.name) ?? false;
    if (on && has) throw conflict("This app is already bound to this service instance.");
    if (!on && !has) throw badRequest("This app is not bound to this service instance.");
    return streamed(reply, async (out) => {
      await apps.patch(
        app,
        (cur) => {
          const others = (cur.spec.serviceBindings ?? []).filter((b) => b.name !== si.metadata.name);
          return { serviceBindings: on ? [...others, { name: si.metadata.name ?? "" }] : others };
        },
        p.email ?? p.name,
      );
      out.message(on ? `---- Setting the service instance credentials on app "${app.metadata.name}" (a new release) ----` : `---- Removing the service instance credentials from app "${app.metadata.name}" ----`);
      // tsuru's closing lines (tsuru/tsuru:api/service_consumption.go bind/unbind).
      out.message(on ? `\nInstance "${si.metadata.name}" is now bound to the app "${app.metadata.name}".\n` : `\nInstance "${si.metadata.name}" is not bound to the app "${app.metadata.name}" anymore.\n`);
    });
  };
  // CLI 1.34 binds under /1.13/.../apps/{app}; older clients use /1.0/.../{app} (tsuru/tsuru:api/server.go).
  s.put<P<"service" | "instance" | "app">>("/services/:service/instances/:instance/:app", bind(true));
  s.delete<P<"service" | "instance" | "app">>("/services/:service/instances/:instance/:app", bind(false));
  s.put<P<"service" | "instance" | "app">>("/services/:service/instances/:instance/apps/:app", bind(true));
  s.delete<P<"service" | "instance" | "app">>("/services/:service/instances/:instance/apps/:app", bind(false));
}
