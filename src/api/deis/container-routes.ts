// Deis containers (pods), scale and restart. Deis answered scale and restart once the
// containers were started (deis/deis:controller/api/views.py AppViewSet.scale,
// ContainerViewSet.restart): Berth waits, bounded, until the cache shows them up.
import type { FastifyInstance } from "fastify";
import { Types } from "../../kube/resource.ts";
import type { App } from "../../model/kinds.ts";
import { Labels } from "../../model/kinds.ts";
import { workloadName } from "../../reconcilers/desired/workloads.ts";
import { badRequest, fromKubernetes, notFound } from "../errors.ts";
import type { DeisHttp, P } from "./http.ts";
import { body, paged, until } from "./http.ts";
import { containerViews } from "./views.ts";

/** How long scale and restart wait for containers to come up before answering anyway. */
export const CONTAINERS_WAIT_MS = 30_000;

export function containerRoutes(s: FastifyInstance, h: DeisHttp): void {
  const { apps, client } = h.deps;
  const views = (app: App) => containerViews(app, apps.pods(app));
  /**
   * Containers of the given types that are up and not among `old`, once each type has its
   * replica count of them; or true at once when one of them cannot be scheduled (waiting would
   * not help: the answer comes now and ps:list shows the state).
   */
  const settled = (app: App, types: string[], old: Set<string> = new Set()) => {
    const fresh = apps.app(app.metadata.name ?? "") ?? app;
    const pods = apps.pods(fresh).filter((x) => types.includes(x.metadata.labels?.[Labels.process] ?? ""));
    if (pods.some((x) => x.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False"))) return true;
    const all = views(fresh);
    return types.every((t) => {
      const want = (fresh.spec.state ?? "Running") === "Running" ? (fresh.spec.processes.find((x) => x.name === t)?.replicas ?? 1) : 0;
      const mine = all.filter((c) => c.type === t);
      return mine.length === want && mine.every((c) => c.state === "up" && !old.has(c.uuid ?? ""));
    });
  };

  s.get<P<"app">>("/apps/:app/containers", async (req) => paged(req, views(h.load(h.who(req), req.params.app))));
  s.get<P<"app" | "type">>("/apps/:app/containers/:type", async (req) => {
    const app = h.load(h.who(req), req.params.app);
    return paged(
      req,
      views(app).filter((c) => c.type === req.params.type),
    );
  });
  s.get<P<"app" | "type" | "num">>("/apps/:app/containers/:type/:num", async (req) => {
    const app = h.load(h.who(req), req.params.app);
    const c = views(app).find((x) => x.type === req.params.type && String(x.num) === req.params.num);
    if (!c) throw notFound("Not found.");
    return c;
  });

  s.post<P<"app">>("/apps/:app/scale", async (req, reply) => {
    const p = h.who(req);
    const app = h.load(p, req.params.app);
    const b = body(req);
    const wanted = Object.entries(b);
    if (!wanted.length) throw badRequest("Must scale at least one container type", { detail: ["Must scale at least one container type"] });
    const counts: Record<string, number> = {};
    for (const [type, raw] of wanted) {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n < 0 || n > 1000) throw badRequest(`Invalid scaling format: ${type}`, { [type]: ["Must be a whole number between 0 and 1000."] });
      if (!app.spec.processes.some((x) => x.name === type)) throw badRequest(`Container type ${type} does not exist in application`, { detail: [`Container type ${type} does not exist in application`] });
      counts[type] = n;
    }
    await apps.patch(app, (cur) => ({ processes: cur.spec.processes.map((x) => (x.name in counts ? { ...x, replicas: counts[x.name] } : x)) }), h.username(p));
    await until(() => settled(app, Object.keys(counts)), CONTAINERS_WAIT_MS, 200);
    return reply.code(204).send();
  });

  /** Restarts (all, one type, or one container): the containers that replaced them. */
  const restart = async (app: App, type?: string, num?: string) => {
    const before = views(app);
    const types = type ? [type] : app.spec.processes.filter((x) => (x.replicas ?? 1) > 0).map((x) => x.name);
    if (type && !app.spec.processes.some((x) => x.name === type)) return [];
    if (num !== undefined) {
      const c = before.find((x) => x.type === type && String(x.num) === num);
      const pod = c && apps.pods(app).find((x) => x.metadata.uid === c.uuid);
      if (!c || !pod) throw notFound("Not found.");
      await client.delete(Types.Pod, pod.metadata.namespace, pod.metadata.name ?? "").catch((e: unknown) => {
        throw fromKubernetes(e, `container ${type}.${num}`);
      });
      await until(() => settled(app, types, new Set([c.uuid ?? ""])), CONTAINERS_WAIT_MS, 200);
      return views(app).filter((x) => x.type === type && !before.some((o) => o.uuid === x.uuid));
    }
    // A restart of whole types is a rollout of the same release: a new pod-template annotation.
    const at = new Date().toISOString();
    for (const t of types) {
      await client
        .mergePatch(Types.Deployment, app.metadata.namespace, workloadName(app.metadata.name ?? "", t), { spec: { template: { metadata: { annotations: { "berth.dev/restartedAt": at } } } } })
        .catch((e: unknown) => {
          throw fromKubernetes(e, `process ${t}`);
        });
    }
    const old = new Set(before.filter((x) => types.includes(x.type)).map((x) => x.uuid ?? ""));
    await until(() => settled(app, types, old), CONTAINERS_WAIT_MS, 200);
    return views(app).filter((x) => types.includes(x.type) && !old.has(x.uuid ?? ""));
  };
  s.post<P<"app">>("/apps/:app/containers/restart", async (req) => restart(h.load(h.who(req), req.params.app)));
  s.post<P<"app" | "type">>("/apps/:app/containers/:type/restart", async (req) => restart(h.load(h.who(req), req.params.app), req.params.type));
  s.post<P<"app" | "type" | "num">>("/apps/:app/containers/:type/:num/restart", async (req) => restart(h.load(h.who(req), req.params.app), req.params.type, req.params.num));
}
