// tsuru pools and plans: Pools and Plans CRs; writes are for admins.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Plan, Pool } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, conflict, fromKubernetes, notFound } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { requireAdmin } from "../identity/principal.ts";
import { NAME } from "../identity/store.ts";
import { bool, caller, form, list, required, str } from "./http.ts";
import { planView, poolView } from "./views.ts";

type P<T extends string> = { Params: Record<T, string> };

export function poolRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { apps, client } = deps;
  const write = async <T>(what: string, op: () => Promise<T>) => {
    try {
      return await op();
    } catch (e) {
      throw fromKubernetes(e, what);
    }
  };

  // Pools a caller may use: public ones and those of their teams. A private pool's team list
  // is nobody else's business: to anyone else it does not exist.
  const usable = (p: Principal, x: Pool) => p.admin || !!x.spec.public || (x.spec.teams ?? []).some((t) => p.teams.has(t));
  s.get("/pools", async (req, reply) => {
    const p = caller(deps, req);
    const pools = apps.pools().filter((x) => usable(p, x));
    return pools.length ? pools.map(poolView) : reply.code(204).send();
  });
  s.get<P<"name">>("/pools/:name", async (req) => {
    const p = caller(deps, req);
    const pool = apps.pool(req.params.name);
    if (!pool || !usable(p, pool)) throw notFound("Pool does not exist.");
    return poolView(pool);
  });
  s.post("/pools", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const f = form(req);
    const name = required(f, "name", "Pool name is required.");
    if (!NAME.test(name)) throw badRequest("Invalid pool name, pool name should have at most 63 characters, containing only lower case letters, numbers or dashes, starting with a letter.");
    if (apps.pool(name)) throw conflict("Pool already exists.");
    const created = await write(`pool ${name}`, () =>
      client.create<Pool>(BerthTypes.Pool, { metadata: { name }, spec: { public: bool(f, "public"), default: bool(f, "default"), teams: list(f, "teams") } }),
    );
    await apps.synced(BerthTypes.Pool, name, created.metadata.resourceVersion);
    return reply.code(201).send();
  });
  s.put<P<"name">>("/pools/:name", async (req, reply) => {
    requireAdmin(caller(deps, req));
    if (!apps.pool(req.params.name)) throw notFound("Pool does not exist.");
    const f = form(req);
    const spec: Record<string, unknown> = {};
    if (str(f, "public") !== undefined) spec.public = bool(f, "public");
    if (str(f, "default") !== undefined) spec.default = bool(f, "default");
    const updated = await write("pool", () => client.mergePatch<Pool>(BerthTypes.Pool, undefined, req.params.name, { spec }));
    await apps.synced(BerthTypes.Pool, req.params.name, updated.metadata.resourceVersion);
    return reply.code(200).send();
  });
  s.delete<P<"name">>("/pools/:name", async (req, reply) => {
    requireAdmin(caller(deps, req));
    if (!apps.pool(req.params.name)) throw notFound("Pool does not exist.");
    const using = apps.apps().filter((a) => a.spec.pool === req.params.name);
    if (using.length) throw badRequest(`This pool has apps, you need to migrate or remove them before removing the pool: ${using.map((a) => a.metadata.name).join(", ")}`);
    await write("pool", () => client.delete(BerthTypes.Pool, undefined, req.params.name));
    await apps.synced(BerthTypes.Pool, req.params.name, undefined);
    return reply.code(200).send();
  });
  const teams = (add: boolean) => async (req: FastifyRequest<P<"name">>, reply: FastifyReply) => {
    requireAdmin(caller(deps, req));
    const pool = apps.pool(req.params.name);
    if (!pool) throw notFound("Pool does not exist.");
    const names = list(form(req), "team");
    if (!names.length) throw badRequest("You must provide the team.");
    const next = add ? [...new Set([...(pool.spec.teams ?? []), ...names])] : (pool.spec.teams ?? []).filter((t) => !names.includes(t));
    const updated = await write("pool", () => client.mergePatch<Pool>(BerthTypes.Pool, undefined, req.params.name, { spec: { teams: next } }));
    await apps.synced(BerthTypes.Pool, req.params.name, updated.metadata.resourceVersion);
    return reply.code(200).send();
  };
  s.post<P<"name">>("/pools/:name/team", teams(true));
  s.delete<P<"name">>("/pools/:name/team", teams(false));
  s.get("/constraints", async (req) => {
    const caller_ = caller(deps, req);
    return apps.pools().filter((x) => usable(caller_, x)).flatMap((p) => [
      ...(p.spec.teams?.length ? [{ PoolExpr: p.metadata.name, Field: "team", Values: p.spec.teams, Blacklist: false }] : []),
      ...(p.spec.plans?.length ? [{ PoolExpr: p.metadata.name, Field: "plan", Values: p.spec.plans, Blacklist: false }] : []),
    ]);
  });
  s.put("/constraints", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const f = form(req);
    const pool = apps.pool(required(f, "poolExpr", "You must provide a pool."));
    if (!pool) throw notFound("Pool does not exist.");
    const field = required(f, "field", "You must provide a field.");
    if (field !== "team" && field !== "plan") throw badRequest(`Berth supports team and plan constraints, not "${field}"`);
    const values = list(f, "values");
    const spec = field === "team" ? { teams: values } : { plans: values };
    const updated = await write("pool", () => client.mergePatch<Pool>(BerthTypes.Pool, undefined, pool.metadata.name ?? "", { spec }));
    await apps.synced(BerthTypes.Pool, pool.metadata.name ?? "", updated.metadata.resourceVersion);
    return reply.code(200).send();
  });

  s.get("/plans", async (req, reply) => {
    caller(deps, req);
    const plans = apps.plans();
    return plans.length ? plans.map(planView) : reply.code(204).send();
  });
  s.post("/plans", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const f = form(req);
    const name = required(f, "name", "Plan name is required.");
    if (!NAME.test(name)) throw badRequest("Invalid plan name");
    const memory = str(f, "memory") ?? "256Mi";
    const cpu = str(f, "cpumilli") ? `${str(f, "cpumilli")}m` : (str(f, "cpu") ?? "100m");
    const created = await write(`plan ${name}`, () => client.create<Plan>(BerthTypes.Plan, { metadata: { name }, spec: { memory, cpu, default: bool(f, "default") } }));
    await apps.synced(BerthTypes.Plan, name, created.metadata.resourceVersion);
    return reply.code(201).send();
  });
  s.delete<P<"name">>("/plans/:name", async (req, reply) => {
    requireAdmin(caller(deps, req));
    if (!apps.plan(req.params.name)) throw notFound("Plan not found");
    await write("plan", () => client.delete(BerthTypes.Plan, undefined, req.params.name));
    await apps.synced(BerthTypes.Plan, req.params.name, undefined);
    return reply.code(200).send();
  });
}
