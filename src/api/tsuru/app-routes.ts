// tsuru apps: create, list, info, update, remove, start/stop/restart/sleep, lock, team
// grants, cnames, env, units, deploy, rollback, deploys.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Types } from "../../kube/resource.ts";
import type { App, AppSpec, Release, ServiceInstance } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import { rolledOut } from "../apps/store.ts";
import type { ApiDeps } from "../deps.ts";
import { ApiError, badRequest, conflict, forbidden, notFound, notImplemented } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { canSeeApp, requireApp, requireTeamMember } from "../identity/principal.ts";
import { NAME } from "../identity/store.ts";
import { planFor } from "../../reconcilers/desired/admission.ts";
import { bool, caller, form, int, list, required, str, streamed, teamOrOnly } from "./http.ts";
import type { JsonStream } from "./http.ts";
import { isObjectId, releaseEventId } from "./object-id.ts";
import { appInfo, appListItem, deployView } from "./views.ts";
import { jsonArrayStream } from "../json-array-stream.ts";
import { uploadOf } from "./multipart.ts";
import { NO_REGISTRY, buildLimits, deploySource, platform } from "../apps/source.ts";
import { registryFromEnv } from "../../builder/build.ts";

type P<T extends string> = { Params: Record<T, string> };
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a Dockerfile deploy is refused, for the CLI to print. */
export const DOCKERFILE_DEPLOY =
  "Berth builds without Docker: deploying a Dockerfile (tsuru app deploy --dockerfile) is not available. Deploy the directory with a Procfile (tsuru app deploy -a <app> <dir>) on a platform, or build and push an image and deploy it with tsuru app deploy -a <app> -i <image>.";

/** Bytes as a Kubernetes quantity: "256Mi" when it is a whole number of Mi or Gi, else bytes. */
export function memoryQuantity(bytes: number): string {
  const n = Math.round(bytes);
  if (n % 1024 ** 3 === 0) return `${n / 1024 ** 3}Gi`;
  if (n % 1024 ** 2 === 0) return `${n / 1024 ** 2}Mi`;
  return String(n);
}

/** CPU and memory from tsuru's plan override: JSON {"planoverride": {"memory", "cpumilli"}} or form planoverride.memory=... */
function planOverrideOf(req: FastifyRequest, f: Record<string, string | string[] | undefined>): { memory?: number; cpumilli?: number; cpuBurst?: number } {
  const body = (req.body && typeof req.body === "object" ? req.body : {}) as Record<string, unknown>;
  const key = Object.keys(body).find((k) => k.toLowerCase() === "planoverride");
  const json = key && body[key] && typeof body[key] === "object" ? (body[key] as Record<string, unknown>) : {};
  const pick = (name: string): number | undefined => {
    const jk = Object.keys(json).find((k) => k.toLowerCase() === name.toLowerCase());
    const raw = jk !== undefined ? json[jk] : str(f, `planoverride.${name}`);
    if (raw === undefined || raw === null || raw === "") return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw badRequest(`Invalid plan override ${name}: ${String(raw)}`);
    return n;
  };
  const out: { memory?: number; cpumilli?: number; cpuBurst?: number } = {};
  const memory = pick("memory");
  const cpumilli = pick("cpumilli");
  const cpuBurst = pick("cpuBurst");
  if (memory !== undefined) out.memory = memory;
  if (cpumilli !== undefined) out.cpumilli = cpumilli;
  if (cpuBurst !== undefined) out.cpuBurst = cpuBurst;
  return out;
}

export function appRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { apps } = deps;
  const load = (p: Principal, name: string): App => requireApp(p, apps.app(name), name);
  const actor = (p: Principal) => p.email ?? `team:${p.name}`;

  /** Waits for the app's current release to be fully rolled out, streaming progress. */
  const rollout = async (out: JsonStream, app: App, minVersion: number) => {
    let last = "";
    const done = await apps.waitFor(
      app,
      (a) => rolledOut(a, minVersion),
      120_000,
      (a) => {
        const line = a?.status?.readySummary ? ` ---> ${a.status.currentRelease ?? ""}: ${a.status.readySummary} units ready` : "";
        if (line && line !== last) out.message((last = line));
      },
    );
    // A rollout that did not happen ends the stream with an error (the CLI then exits non-zero).
    if (!rolledOut(done, minVersion)) {
      const why = done?.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "no status";
      throw new Error(`the rollout of release v${minVersion} did not finish in time (current v${done?.status?.currentReleaseVersion ?? 0}): ${why}`);
    }
    return done;
  };

  s.post("/apps", async (req, reply) => {
    const p = caller(deps, req);
    const f = form(req);
    const name = required(f, "name", "You must provide the app name");
    if (!NAME.test(name) || name.length > 40) throw badRequest("Invalid app name, your app should have at most 40 characters, containing only lower case letters, numbers or dashes, starting with a letter.");
    const team = teamOrOnly(p, str(f, "teamOwner"));
    requireTeamMember(p, team);
    const poolName = str(f, "pool");
    const pool = poolName ? apps.pool(poolName) : apps.pools().find((x) => x.spec.default);
    if (!pool) throw badRequest(poolName ? `Pool "${poolName}" not found` : "No default pool. You must provide a pool.");
    if (!pool.spec.public && pool.spec.teams?.length && !pool.spec.teams.includes(team)) throw forbidden(`Team "${team}" may not use pool "${pool.metadata.name}"`);
    const plan = str(f, "plan");
    if (plan && !apps.plan(plan)) throw badRequest(`Plan "${plan}" not found`);
    const platformName = str(f, "platform")?.trim();
    if (platformName && !platform(deps, platformName)) throw badRequest(`Invalid platform: platform "${platformName}" not found (tsuru platform list)`);
    const spec: AppSpec = {
      // No image until the first deploy: tsuru apps start empty; Berth runs a placeholder at zero units.
      image: "registry.k8s.io/pause:3.10",
      processes: [{ name: "web", replicas: 0, ports: [{ port: 8888 }] }],
      owner: team,
      pool: pool.metadata.name,
      ...(plan ? { plan } : {}),
      ...(platformName ? { platform: platformName } : {}),
      ...(str(f, "description") ? { description: str(f, "description") } : {}),
      ...(list(f, "tag").length ? { tags: list(f, "tag") } : {}),
    };
    const app = await apps.create(name, spec, pool, actor(p));
    // String values only: the CLI decodes this into a map of strings.
    return reply.code(201).send({ status: "success", ip: app.status?.urls?.[0]?.replace(/^https?:\/\//, "") ?? "" });
  });

  s.get("/apps", async (req, reply) => {
    const p = caller(deps, req);
    const f = form(req);
    const byName = str(f, "name");
    const out = apps
      .apps()
      .filter((a) => canSeeApp(p, a))
      .filter((a) => !byName || (a.metadata.name ?? "").includes(byName))
      .filter((a) => !str(f, "teamOwner") || a.spec.owner === str(f, "teamOwner"))
      .filter((a) => !str(f, "pool") || a.spec.pool === str(f, "pool"))
      .filter((a) => !str(f, "locked") || (a.spec.locked ?? false) === bool(f, "locked"))
      .filter((a) => !list(f, "tag").length || list(f, "tag").every((t) => a.spec.tags?.includes(t)));
    if (!out.length) return reply.code(204).send();
    const plans = apps.plans();
    return reply.type("application/json; charset=utf-8").send(jsonArrayStream(out, (a) => appListItem(a, apps.pods(a), planFor(a, plans))));
  });

  s.get<P<"app">>("/apps/:app", async (req) => {
    const app = load(caller(deps, req), req.params.app);
    const instances = deps.informers.informerFor<ServiceInstance>(BerthTypes.ServiceInstance).store;
    const bindings = (app.spec.serviceBindings ?? []).map((b) => {
      const si = instances.get(`${app.metadata.namespace}/${b.name}`);
      return { service: si?.spec.serviceClass ?? "", instance: b.name, plan: si?.spec.plan ?? "" };
    });
    // Without a plan of its own an app runs with the default plan, and shows it (as tsuru does).
    return appInfo(app, apps.pods(app), planFor(app, apps.plans()), apps.releases(app), bindings);
  });

  s.put<P<"app">>("/apps/:app", (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.app);
    const f = form(req);
    const patch: Partial<AppSpec> = {};
    if (str(f, "description") !== undefined) patch.description = str(f, "description");
    if (str(f, "plan")) {
      if (!apps.plan(str(f, "plan")!)) throw badRequest(`Plan "${str(f, "plan")}" not found`);
      patch.plan = str(f, "plan");
    }
    if (str(f, "pool")) {
      if (!apps.pool(str(f, "pool")!)) throw badRequest(`Pool "${str(f, "pool")}" not found`);
      patch.pool = str(f, "pool");
    }
    if (str(f, "teamOwner")) {
      requireTeamMember(p, str(f, "teamOwner")!);
      patch.owner = str(f, "teamOwner");
    }
    if (list(f, "tag").length) patch.tags = list(f, "tag");
    const platformName = str(f, "platform")?.trim();
    if (platformName) {
      if (!platform(deps, platformName)) throw badRequest(`Invalid platform: platform "${platformName}" not found (tsuru platform list)`);
      patch.platform = platformName;
    }
    // app update --memory/--cpu: the process's own resources win over the plan's.
    const override = planOverrideOf(req, f);
    if (override.cpuBurst !== undefined && override.cpuBurst !== 1) throw badRequest("Berth does not support CPU burst: requests and limits are equal. Use --cpu to change the CPU.");
    const resources = {
      ...(override.memory !== undefined ? { memory: memoryQuantity(override.memory) } : {}),
      ...(override.cpumilli !== undefined ? { cpu: `${Math.round(override.cpumilli)}m` } : {}),
    };
    // The processes are read afresh (and retried) when resources change: other writers may scale them.
    const change = Object.keys(resources).length ? (cur: App) => ({ ...patch, processes: cur.spec.processes.map((proc) => ({ ...proc, resources: { ...proc.resources, ...resources } })) }) : patch;
    return streamed(reply, async (out) => {
      out.message(`---- Updating app "${req.params.app}" ----`);
      await apps.patch(app, change, actor(p));
      out.message(" ---> updated");
    });
  });

  s.delete<P<"app">>("/apps/:app", (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.app);
    if (app.spec.locked) throw new ApiError(423, `App ${req.params.app} is locked.`);
    return streamed(reply, async (out) => {
      out.message(`---- Removing application "${req.params.app}"...`);
      await apps.remove(app);
      out.message(`---- Done removing application.`);
    });
  });

  const setState = (path: string, state: AppSpec["state"], verb: string) =>
    s.post<P<"app">>(`/apps/:app/${path}`, (req, reply) => {
      const p = caller(deps, req);
      const app = load(p, req.params.app);
      return streamed(reply, async (out) => {
        out.message(`---- ${verb} the app "${req.params.app}" ----`);
        const updated = await apps.patch(app, { state }, actor(p));
        await rollout(out, updated, updated.status?.currentReleaseVersion ?? 1);
      });
    });
  setState("start", "Running", "Starting");
  setState("stop", "Stopped", "Stopping");
  setState("sleep", "Sleeping", "Putting to sleep");
  s.post<P<"app">>("/apps/:app/restart", (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.app);
    return streamed(reply, async (out) => {
      out.message(`---- Restarting the app "${req.params.app}" ----`);
      // A restart is a rollout of the same release: a new annotation on the pod template.
      for (const proc of app.spec.processes) {
        if (str(form(req), "process") && str(form(req), "process") !== proc.name) continue;
        await deps.client.mergePatch(Types.Deployment, app.metadata.namespace, `${app.metadata.name}-${proc.name}`, {
          spec: { template: { metadata: { annotations: { "berth.dev/restartedAt": new Date().toISOString() } } } },
        });
      }
      out.message(" ---> restarted");
    });
  });

  s.post<P<"app">>("/apps/:app/lock", async (req, reply) => {
    const p = caller(deps, req);
    await apps.patch(load(p, req.params.app), { locked: true }, actor(p));
    return reply.code(200).send();
  });
  s.delete<P<"app">>("/apps/:app/lock", async (req, reply) => {
    const p = caller(deps, req);
    await apps.patch(load(p, req.params.app), { locked: false }, actor(p));
    return reply.code(200).send();
  });

  s.put<P<"app" | "team">>("/apps/:app/teams/:team", async (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.app);
    if (!deps.identity.team(req.params.team)) throw notFound("Team not found");
    // A team token grants only to the teams it acts for: it cannot widen its own reach.
    if (!p.user) requireTeamMember(p, req.params.team);
    if (app.spec.owner === req.params.team || app.spec.teams?.includes(req.params.team)) throw conflict("This team already has access to this app");
    await apps.patch(app, (cur) => (cur.spec.teams?.includes(req.params.team) ? undefined : { teams: [...(cur.spec.teams ?? []), req.params.team] }), actor(p));
    return reply.code(200).send();
  });
  s.delete<P<"app" | "team">>("/apps/:app/teams/:team", async (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.app);
    if (app.spec.owner === req.params.team) throw forbidden("You can not revoke the access from this team, because it is the team owner of the app");
    if (!app.spec.teams?.includes(req.params.team)) throw notFound("This team does not have access to this app");
    await apps.patch(app, (cur) => ({ teams: (cur.spec.teams ?? []).filter((t) => t !== req.params.team) }), actor(p));
    return reply.code(200).send();
  });

  s.post<P<"app">>("/apps/:app/cname", async (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.app);
    const add = list(form(req), "cname");
    if (!add.length) throw badRequest("You must provide the cname.");
    await apps.patch(app, (cur) => ({ domains: [...new Set([...(cur.spec.domains ?? []), ...add])] }), actor(p));
    return reply.code(200).send();
  });
  s.delete<P<"app">>("/apps/:app/cname", async (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.app);
    const drop = new Set(list(form(req), "cname"));
    if (!drop.size) throw badRequest("You must provide the cname.");
    await apps.patch(app, (cur) => ({ domains: (cur.spec.domains ?? []).filter((d) => !drop.has(d)) }), actor(p));
    return reply.code(200).send();
  });

  // --- env ----------------------------------------------------------------------------
  s.get<P<"app">>("/apps/:app/env", async (req) => {
    const app = load(caller(deps, req), req.params.app);
    const wanted = new Set(list(form(req), "env"));
    const priv = await apps.privateEnv(app);
    // Private values stay masked here (tsuru sends them and lets the CLI mask them).
    const all = [
      ...(app.spec.env ?? []).map((v) => ({ name: v.name, value: v.value ?? "", alias: "", public: true, managedBy: "" })),
      ...Object.keys(priv).map((k) => ({ name: k, value: "*** (private variable)", alias: "", public: false, managedBy: "" })),
    ].filter((v) => !wanted.size || wanted.has(v.name));
    return all.length ? all : null;
  });

  s.post<P<"app">>("/apps/:app/env", (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.app);
    const f = form(req);
    // Form: Envs.0.Name / Envs.0.Value (any case); JSON (go-tsuruclient): {"envs": [{"name", "value"}]}.
    const envs: { name: string; value: string }[] = [];
    const json = (req.body as { envs?: unknown; Envs?: unknown } | undefined)?.envs ?? (req.body as { Envs?: unknown } | undefined)?.Envs;
    if (Array.isArray(json)) {
      for (const e of json as unknown[]) {
        const o = (e && typeof e === "object" ? e : {}) as Record<string, unknown>;
        const name = o.name ?? o.Name ?? "";
        const value = o.value ?? o.Value ?? "";
        if (typeof name !== "string" || typeof value !== "string") throw badRequest("Invalid environment variable: name and value must be strings");
        envs.push({ name, value });
      }
    }
    for (let i = 0; str(f, `Envs.${i}.Name`) !== undefined; i++) envs.push({ name: str(f, `Envs.${i}.Name`) ?? "", value: str(f, `Envs.${i}.Value`) ?? "" });
    if (!envs.length) throw badRequest("You must provide the list of environment variables");
    for (const e of envs) if (!ENV_NAME.test(e.name)) throw badRequest(`Invalid environment variable name: '${e.name}'`);
    const isPrivate = bool(f, "Private") || bool(f, "private");
    return streamed(reply, async (out) => {
      out.message(`---- Setting ${envs.length} new environment variables ----`);
      const before = app.status?.currentReleaseVersion ?? 0;
      let updated: App;
      const names = new Set(envs.map((e) => e.name));
      if (isPrivate) {
        const secret = await apps.changePrivateEnv(app, Object.fromEntries(envs.map((e) => [e.name, e.value])), []);
        updated = await apps.patch(app, (cur) => ({ privateEnvSecret: secret, env: (cur.spec.env ?? []).filter((v) => !names.has(v.name)) }), actor(p));
      } else {
        const priv = await apps.privateEnv(app);
        if (envs.some((e) => e.name in priv)) await apps.changePrivateEnv(app, {}, [...names]);
        updated = await apps.patch(app, (cur) => ({ env: [...(cur.spec.env ?? []).filter((v) => !names.has(v.name)), ...envs] }), actor(p));
      }
      if (app.spec.processes.some((pr) => (pr.replicas ?? 1) > 0)) await rollout(out, updated, before + 1);
    });
  });

  s.delete<P<"app">>("/apps/:app/env", (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.app);
    const names = new Set(list(form(req), "env"));
    if (!names.size) throw badRequest("You must provide the list of environment variables.");
    return streamed(reply, async (out) => {
      out.message(`---- Unsetting ${names.size} environment variables ----`);
      const before = app.status?.currentReleaseVersion ?? 0;
      const priv = await apps.privateEnv(app);
      if ([...names].some((n) => n in priv)) await apps.changePrivateEnv(app, {}, [...names]);
      const updated = await apps.patch(app, (cur) => ({ env: (cur.spec.env ?? []).filter((v) => !names.has(v.name)) }), actor(p));
      if (app.spec.processes.some((pr) => (pr.replicas ?? 1) > 0)) await rollout(out, updated, before + 1);
    });
  });

  // --- units --------------------------------------------------------------------------
  const scale = (sign: 1 | -1) => (req: FastifyRequest<P<"name">>, reply: FastifyReply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.name);
    const f = form(req);
    const n = int(f, "units");
    if (n <= 0) throw badRequest("Invalid number of units: the number must be an integer greater than 0.");
    const procName = str(f, "process") || (app.spec.processes.length === 1 ? app.spec.processes[0]!.name : undefined);
    const proc = app.spec.processes.find((x) => x.name === procName);
    if (!proc) throw badRequest(procName ? `process error: process "${procName}" not found` : "You must provide the process name");
    const next = (proc.replicas ?? 1) + sign * n;
    if (next < 0) throw badRequest(`Not enough units to remove: the process has ${proc.replicas ?? 1}`);
    return streamed(reply, async (out) => {
      out.message(`${sign > 0 ? "Adding" : "Removing"} ${n} unit${n > 1 ? "s" : ""} ${sign > 0 ? "to" : "from"} process "${proc.name}"`);
      const updated = await apps.patch(
        app,
        (cur) => {
          const now = cur.spec.processes.find((x) => x.name === proc.name);
          const want = (now?.replicas ?? 1) + sign * n;
          if (!now || want < 0) throw badRequest(`Not enough units to remove: the process has ${now?.replicas ?? 0}`);
          return { processes: cur.spec.processes.map((x) => (x.name === proc.name ? { ...x, replicas: want } : x)) };
        },
        actor(p),
      );
      await rollout(out, updated, 0);
    });
  };
  s.put<P<"name">>("/apps/:name/units", scale(1));
  s.delete<P<"name">>("/apps/:name/units", scale(-1));

  // unit kill: the unit is a pod; its Deployment starts a replacement.
  s.delete<P<"name" | "unit">>("/apps/:name/units/:unit", (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.name);
    const pod = apps.pods(app).find((x) => x.metadata.name === req.params.unit);
    if (!pod) throw notFound(`unit "${req.params.unit}" not found`);
    const force = bool(form(req), "force");
    return streamed(reply, async (out) => {
      out.message(`---- Killing unit "${req.params.unit}" of app "${app.metadata.name}" ----`);
      await deps.client.delete(Types.Pod, pod.metadata.namespace, pod.metadata.name ?? "", force ? { gracePeriodSeconds: 0 } : {});
      out.message(" ---> the unit was killed; a new one takes its place");
    });
  });

  // --- deploy and rollback ---------------------------------------------------------------
  const deployResponse = async (reply: FastifyReply, app: App, work: (say: (l: string) => void, version: number) => Promise<Release | undefined>) => {
    reply.hijack();
    // The id of the deploy's event: that of the release this deploy makes (the next version).
    const next = apps.nextVersion(app);
    reply.raw.writeHead(200, { "Content-Type": "text", "X-Tsuru-Eventid": releaseEventId(app, next) });
    const say = (l: string) => reply.raw.write(`${l}\n`);
    try {
      const r = await work(say, next);
      say(`---> Release v${r?.spec.version ?? "?"}: ${r?.spec.summary ?? ""}`);
      say("OK");
    } catch (e) {
      say(`Error: ${e instanceof Error ? e.message : String(e)}`);
    }
    reply.raw.end();
  };

  const deployImage = async (p: Principal, app: App, image: string, say: (l: string) => void, extra: Partial<AppSpec> = {}) => {
    const before = app.status?.currentReleaseVersion ?? 0;
    say(`---- Deploying image ${image} ----`);
    const processes = app.spec.processes.some((x) => (x.replicas ?? 1) > 0) ? app.spec.processes : app.spec.processes.map((x) => ({ ...x, replicas: 1 }));
    const updated = await apps.patch(app, { image, processes, ...extra }, actor(p));
    const out = { message: (t: string) => say(t.trimEnd()) } as unknown as JsonStream;
    const done = await rollout(out, updated, before + 1);
    return apps.releases(done ?? updated).at(-1);
  };

  s.post<P<"appname">>("/apps/:appname/deploy", async (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.appname);
    const f = form(req);
    const image = str(f, "image")?.trim();
    if (!image && str(f, "dockerfile") !== undefined) throw notImplemented(DOCKERFILE_DEPLOY);
    if (!image && str(f, "archiveurl") !== undefined) throw notImplemented("Berth does not fetch archives from URLs: upload the directory (tsuru app deploy -a <app> <dir>).");
    const upload = uploadOf(req);
    if (!image && upload) {
      if (str(f, "multipartError")) throw badRequest(`invalid upload: ${str(f, "multipartError")}`);
      const limit = buildLimits().maxUploadBytes;
      const file = upload.files.file;
      if (!upload.tooLarge && !file) throw badRequest("you must specify either image or archive");
      if (app.spec.locked) throw new ApiError(423, `App ${app.metadata.name} is locked.`);
      if (!registryFromEnv()) throw notImplemented(NO_REGISTRY);
      await deployResponse(reply, app, async (say, version) => {
        if (upload.tooLarge || !file) throw new Error(`build failed: the upload is ${((upload.tooLarge ?? 0) / 2 ** 20).toFixed(1)} MiB: the limit is ${Math.round(limit / 2 ** 20)} MiB`);
        const updated = await deploySource(deps, { app, version, source: file.data, author: actor(p), say });
        const before = app.status?.currentReleaseVersion ?? 0;
        const out = { message: (t: string) => say(t.trimEnd()) } as unknown as JsonStream;
        const done = await rollout(out, updated, before + 1);
        return apps.releases(done ?? updated).at(-1);
      });
      return;
    }
    if (!image) throw badRequest("you must specify either image or archive");
    await deployResponse(reply, app, (say) => deployImage(p, app, image, say));
  });

  s.post<P<"app">>("/apps/:app/deploy/rollback", async (req, reply) => {
    const p = caller(deps, req);
    const app = load(p, req.params.app);
    const f = form(req);
    const wanted = str(f, "version") ?? str(f, "image");
    if (!wanted) throw badRequest("you must specify an image or a version");
    const releases = apps.releases(app);
    const target = releases.find((r) => `${r.spec.version}` === wanted.replace(/^v/, "") || r.spec.image === wanted);
    if (!target) throw notFound(`version not found: ${wanted}`);
    // Unlike deploy (plain text ending in "OK"), tsuru streams a rollback as JSON messages, without "OK".
    return streamed(reply, async (out) => {
      const say = (l: string) => out.message(l);
      say(`---- Rolling back to v${target.spec.version} (${target.spec.image}) ----`);
      const { image, ...rest } = await apps.rollbackPatch(app, target);
      const r = await deployImage(p, app, image ?? target.spec.image, say, rest);
      say(`---> Release v${r?.spec.version ?? "?"}: ${r?.spec.summary ?? ""}`);
    });
  });

  s.get("/deploys", async (req, reply) => {
    const p = caller(deps, req);
    const name = str(form(req), "app");
    const out = apps
      .apps()
      .filter((a) => canSeeApp(p, a) && (!name || a.metadata.name === name))
      .flatMap((a) => apps.releases(a).map((r) => deployView(a, r)))
      .sort((a, b) => String(b.Timestamp).localeCompare(String(a.Timestamp)) || b.Version - a.Version);
    return out.length ? out : reply.code(204).send();
  });
  s.get<P<"deploy">>("/deploys/:deploy", async (req) => {
    const p = caller(deps, req);
    for (const a of apps.apps().filter((x) => canSeeApp(p, x))) {
      const r = apps.releases(a).find((x) => (isObjectId(req.params.deploy) ? releaseEventId(a, x.spec.version) === req.params.deploy : x.metadata.name === req.params.deploy));
      if (r) return deployView(a, r);
    }
    throw notFound("Deploy not found.");
  });
}
