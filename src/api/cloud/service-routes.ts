// The cloud API's services: an organization's (Team's) ServiceInstances. Writes are CR changes
// (optimistic, retried on conflict); the controller converges the workload and reports the state.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { isAlreadyExists } from "../../kube/client.ts";
import { updateWithRetry } from "../../kube/optimistic.ts";
import { Types, keyOf, ownerRef } from "../../kube/resource.ts";
import type { Pool, ServiceClass, ServiceInstance, ServiceInstanceSpec } from "../../model/kinds.ts";
import { BerthTypes, Labels } from "../../model/kinds.ts";
import { PASSWORD_REQUEST, isIdle, passwordRequestSecretName } from "../../reconcilers/desired/service-instance.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, conflict, fromKubernetes, notFound } from "../errors.ts";
import { NAME } from "../identity/store.ts";
import type { CloudCaller } from "./http.ts";
import { authorize, body, caller, isUuid, ok, optString } from "./http.ts";
import { ipAccessListFrom, scalingFrom, tier } from "./rules.ts";
import type { JobObj } from "./views.ts";
import { serviceView } from "./views.ts";

/** On a ServiceClass: "true" offers it to the cloud API. */
export const CLOUD_CLASS_LABEL = "berth.dev/cloud";
/** On an offered class: offered to this team (organization) only, and preferred for it over the classes offered to all. */
export const CLOUD_TEAM_LABEL = "berth.dev/cloud-team";

type P<T extends string> = { Params: Record<T, string> };

const instances = (deps: ApiDeps) => deps.informers.informerFor<ServiceInstance>(BerthTypes.ServiceInstance).store;
const classOf = (deps: ApiDeps, si: ServiceInstance) => deps.informers.informerFor<ServiceClass>(BerthTypes.ServiceClass).store.get(si.spec.serviceClass);

/** The organization's services (being deleted: gone already). */
export function servicesOf(deps: ApiDeps, c: CloudCaller): ServiceInstance[] {
  const team = c.team.metadata.name;
  return instances(deps)
    .list()
    .filter((si) => si.spec.owner === team && !si.metadata.deletionTimestamp)
    .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
}

/** One service of the caller's organization, or 404 (another organization's service does not exist for this key). */
export function serviceOf(deps: ApiDeps, c: CloudCaller, serviceId: string): ServiceInstance {
  const id = serviceId.toLowerCase();
  const si = isUuid(id) ? servicesOf(deps, c).find((x) => x.metadata.uid === id) : undefined;
  if (!si) throw notFound(`Service ${serviceId} not found`);
  return si;
}

/**
 * The ServiceClass a team's new services are instances of: among those labelled
 * berth.dev/cloud=true (first by name), one offered to the team only (berth.dev/cloud-team) before
 * those offered to all; else the only class there is.
 */
export function offeredClass(classes: readonly ServiceClass[], team: string): ServiceClass | undefined {
  const all = [...classes].sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
  const offered = all.filter((x) => x.metadata.labels?.[CLOUD_CLASS_LABEL] === "true");
  const teamOf = (x: ServiceClass) => x.metadata.labels?.[CLOUD_TEAM_LABEL];
  return offered.find((x) => teamOf(x) === team) ?? offered.find((x) => teamOf(x) === undefined) ?? (all.length === 1 && teamOf(all[0]!) === undefined ? all[0] : undefined);
}

function pickClass(deps: ApiDeps, team: string): ServiceClass {
  const cls = offeredClass(deps.informers.informerFor<ServiceClass>(BerthTypes.ServiceClass).store.list(), team);
  if (!cls) throw badRequest(`No service class is offered to the cloud API: an administrator labels one ServiceClass ${CLOUD_CLASS_LABEL}=true`);
  return cls;
}

function pickPool(deps: ApiDeps, team: string): Pool {
  const pools = deps.apps.pools().sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
  const pool = pools.find((p) => p.spec.teams?.includes(team)) ?? pools.find((p) => p.spec.default) ?? pools.find((p) => p.spec.public);
  if (!pool) throw badRequest("No pool to run services in: an administrator creates a default pool first");
  return pool;
}

/** A DNS-safe object name for a service name, unique in the namespace. */
function objectName(deps: ApiDeps, name: string, ns: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "") || "service";
  const taken = (n: string) => !!instances(deps).get(`${ns}/${n}`);
  return NAME.test(slug) && !taken(slug) ? slug : `${slug}-${randomBytes(3).toString("hex")}`;
}

const API_MANAGER = "berth-api";
const SHA256_BASE64 = /^[A-Za-z0-9+/]{43}=$/;
const DOUBLE_SHA1_HEX = /^[0-9a-fA-F]{40}$/;

/** The Secret the controller takes the instance's password (or its hashes) from. */
function passwordRequestSecret(si: ServiceInstance, id: string, data: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: passwordRequestSecretName(si.metadata.name ?? ""),
      namespace: si.metadata.namespace,
      labels: { [Labels.instance]: si.metadata.name ?? "", [Labels.managedBy]: "berth" },
      annotations: { [PASSWORD_REQUEST]: id },
      ownerReferences: [ownerRef(si, BerthTypes.ServiceInstance)],
    },
    type: "Opaque",
    // data, not stringData, always applied by one field manager: keys left out of a later
    // request (a hash after a password) are removed, not kept from the earlier one.
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}

const newPassword = () => `${randomBytes(12).toString("base64url")}~${randomBytes(3).toString("hex")}`;
const sha256Base64 = (pw: string) => createHash("sha256").update(pw).digest("base64");

export function serviceRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { client } = deps;
  const view = (si: ServiceInstance) => serviceView(si, classOf(deps, si));
  const write = async (si: ServiceInstance, mutate: (cur: ServiceInstance) => Partial<ServiceInstanceSpec> | undefined): Promise<ServiceInstance> => {
    try {
      const updated = await updateWithRetry<ServiceInstance>(client, BerthTypes.ServiceInstance, si.metadata.namespace, si.metadata.name ?? "", (cur) => {
        if (cur.metadata.deletionTimestamp) throw notFound(`Service ${si.metadata.uid} not found`);
        const spec = mutate(cur);
        return spec ? { spec } : undefined;
      }, si);
      await deps.apps.synced(BerthTypes.ServiceInstance, keyOf(updated), updated.metadata.resourceVersion);
      return updated;
    } catch (e) {
      throw fromKubernetes(e, "service");
    }
  };
  const target = (req: FastifyRequest<P<"organizationId" | "serviceId">>, action: "read" | "write" | "delete") => {
    const c = caller(deps, req, req.params.organizationId);
    const si = serviceOf(deps, c, req.params.serviceId);
    authorize(c, action);
    return si;
  };

  s.get<P<"organizationId">>("/:organizationId/services", async (req, reply) => {
    const c = caller(deps, req, req.params.organizationId);
    return ok(req, reply, servicesOf(deps, c).map(view));
  });

  s.post<P<"organizationId">>("/:organizationId/services", async (req, reply) => {
    const c = caller(deps, req, req.params.organizationId);
    authorize(c, "create");
    const b = body(req);
    const name = optString(b, "name")?.trim();
    if (!name) throw badRequest("name: required, a non-empty string");
    const provider = optString(b, "provider", 64);
    if (!provider) throw badRequest("provider: required (such as aws, gcp or azure)");
    const region = optString(b, "region", 64);
    if (!region) throw badRequest("region: required");
    const serviceTier = tier(b.tier) ?? "production";
    const scaling = scalingFrom(b, undefined, serviceTier);
    const ipAccessList = b.ipAccessList === undefined || b.ipAccessList === null ? [] : Array.isArray(b.ipAccessList) ? ipAccessListFrom(b.ipAccessList, []) : (() => { throw badRequest("ipAccessList: must be a list of {source, description}"); })();
    const backupId = optString(b, "backupId", 64);
    let restoreFrom: string | undefined;
    if (backupId) {
      const owned = new Set(servicesOf(deps, c).map((x) => `${x.metadata.namespace}/${x.metadata.name}`));
      const job = deps.informers
        .informerFor<JobObj>(Types.Job, { labelSelector: `${Labels.backup}=true` })
        .store.list()
        .find((j) => j.metadata.uid === backupId.toLowerCase());
      // A backup of another organization's service is refused exactly like one that does not exist.
      if (!job || !owned.has(`${job.metadata.namespace}/${job.metadata.labels?.[Labels.instance] ?? ""}`)) throw badRequest(`backupId: no backup ${backupId} in this organization`);
      restoreFrom = job.metadata.uid;
    }
    const cls = pickClass(deps, c.team.metadata.name ?? "");
    const pool = pickPool(deps, c.team.metadata.name ?? "");
    const ns = deps.apps.namespaceFor(pool);
    const objName = objectName(deps, name, ns);
    const plan = cls.spec.plans.find((p) => p.name === serviceTier)?.name ?? cls.spec.plans[0]?.name;
    const password = newPassword();
    const requestIdPw = randomUUID();
    let si: ServiceInstance;
    try {
      si = await client.create<ServiceInstance>(BerthTypes.ServiceInstance, {
        metadata: { name: objName, namespace: ns },
        spec: {
          serviceClass: cls.metadata.name ?? "",
          ...(plan ? { plan } : {}),
          owner: c.team.metadata.name ?? "",
          displayName: name,
          tier: serviceTier,
          provider,
          region,
          state: "Running",
          scaling,
          ipAccessList,
          passwordRequest: requestIdPw,
          ...(restoreFrom ? { restoreFrom } : {}),
        },
      });
      await client.apply(Types.Secret, passwordRequestSecret(si, requestIdPw, { PASSWORD: password, PASSWORD_SHA256_BASE64: sha256Base64(password) }), API_MANAGER, { force: true }).catch(async (e: unknown) => {
        // Without its password the instance would wait forever: take it back.
        await client.delete(BerthTypes.ServiceInstance, si.metadata.namespace, si.metadata.name ?? "", { uid: si.metadata.uid }).catch(() => undefined);
        throw e;
      });
      await deps.apps.synced(BerthTypes.ServiceInstance, keyOf(si), si.metadata.resourceVersion);
    } catch (e) {
      if (isAlreadyExists(e)) throw conflict(`A service named ${name} is being created; retry`);
      throw fromKubernetes(e, `service ${name}`);
    }
    return ok(req, reply, { service: view(si), password });
  });

  s.get<P<"organizationId" | "serviceId">>("/:organizationId/services/:serviceId", async (req, reply) => ok(req, reply, view(target(req, "read"))));

  s.patch<P<"organizationId" | "serviceId">>("/:organizationId/services/:serviceId", async (req, reply) => {
    const si = target(req, "write");
    const b = body(req);
    const name = optString(b, "name");
    if (name !== undefined && !name.trim()) throw badRequest("name: must not be empty");
    // Checked against the current list now, applied again to the list as written (optimistic retries).
    if (b.ipAccessList !== undefined) ipAccessListFrom(b.ipAccessList, si.spec.ipAccessList ?? []);
    const updated = await write(si, (cur) => {
      const spec: Partial<ServiceInstanceSpec> = {};
      if (name !== undefined) spec.displayName = name.trim();
      if (b.ipAccessList !== undefined) spec.ipAccessList = ipAccessListFrom(b.ipAccessList, cur.spec.ipAccessList ?? []);
      return Object.keys(spec).length ? spec : undefined;
    });
    return ok(req, reply, view(updated));
  });

  s.delete<P<"organizationId" | "serviceId">>("/:organizationId/services/:serviceId", async (req, reply) => {
    const si = target(req, "delete");
    if (si.spec.state !== "Stopped" || si.status?.state !== "stopped") throw conflict("The service must be stopped before it can be deleted: stop it (PATCH .../state {\"command\": \"stop\"}) and wait for state stopped");
    try {
      await client.delete(BerthTypes.ServiceInstance, si.metadata.namespace, si.metadata.name ?? "", { uid: si.metadata.uid });
    } catch (e) {
      throw fromKubernetes(e, "service");
    }
    // The instance is gone for the API as soon as it carries a deletionTimestamp.
    const end = Date.now() + 2000;
    while (Date.now() < end && instances(deps).get(keyOf(si)) && !instances(deps).get(keyOf(si))?.metadata.deletionTimestamp) await new Promise((r) => setTimeout(r, 20));
    return ok(req, reply);
  });

  s.patch<P<"organizationId" | "serviceId">>("/:organizationId/services/:serviceId/state", async (req, reply) => {
    const si = target(req, "write");
    const command = body(req).command;
    if (command !== "start" && command !== "stop" && command !== "awake") throw badRequest("command: must be 'start', 'stop' or 'awake'");
    const state = command === "stop" ? "Stopped" : "Running";
    const updated = await write(si, (cur) => {
      // awake (or start) of a service that idle scaling holds at zero: a new awake request wakes it.
      if (state === "Running" && isIdle(cur)) return { state, awakeRequest: randomUUID() };
      return (cur.spec.state ?? "Running") === state ? undefined : { state };
    });
    return ok(req, reply, view(updated));
  });

  s.patch<P<"organizationId" | "serviceId">>("/:organizationId/services/:serviceId/scaling", async (req, reply) => {
    const si = target(req, "write");
    const b = body(req);
    scalingFrom(b, si.spec.scaling, si.spec.tier ?? "production");
    const updated = await write(si, (cur) => ({ scaling: scalingFrom(b, cur.spec.scaling, cur.spec.tier ?? "production") }));
    return ok(req, reply, view(updated));
  });

  s.patch<P<"organizationId" | "serviceId">>("/:organizationId/services/:serviceId/password", async (req, reply) => {
    const si = target(req, "write");
    const b = body(req);
    const hash = optString(b, "newPasswordHash", 64);
    const doubleSha1 = optString(b, "newDoubleSha1Hash", 64);
    if (hash !== undefined && !SHA256_BASE64.test(hash)) throw badRequest("newPasswordHash: must be the base64 of a SHA-256 digest (44 characters), as `echo -n PASSWORD | sha256sum | xxd -r -p | base64` prints");
    if (hash !== undefined && doubleSha1 !== undefined && !DOUBLE_SHA1_HEX.test(doubleSha1)) throw badRequest("newDoubleSha1Hash: must be 40 hexadecimal digits (SHA-1 of the SHA-1 of the password)");
    // Without newPasswordHash, a password is generated (and newDoubleSha1Hash ignored, as documented).
    const password = hash === undefined ? newPassword() : undefined;
    const data: Record<string, string> = password
      ? { PASSWORD: password, PASSWORD_SHA256_BASE64: sha256Base64(password) }
      : { PASSWORD_SHA256_BASE64: hash ?? "", ...(doubleSha1 ? { PASSWORD_DOUBLE_SHA1_HEX: doubleSha1.toLowerCase() } : {}) };
    const id = randomUUID();
    try {
      await client.apply(Types.Secret, passwordRequestSecret(si, id, data), API_MANAGER, { force: true });
    } catch (e) {
      throw fromKubernetes(e, "password");
    }
    await write(si, () => ({ passwordRequest: id }));
    return ok(req, reply, password ? { password } : {});
  });
}
