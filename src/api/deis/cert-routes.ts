// Deis certificates (deis certs:add/list/remove; client/controller/models/certs/certs.go). Deis 1.13
// kept certificates by common name for its router; Berth attaches one to the apps, visible to
// the caller, that have the certificate's common name as a domain (one certificate per app:
// the app's TLS Secret, the same one tsuru's `certificate set` writes).
import type { FastifyInstance } from "fastify";
import type { App } from "../../model/kinds.ts";
import { appCertificate, commonName, parseCertificate, removeAppCertificate, setAppCertificate } from "../apps/tls.ts";
import { badRequest, notFound } from "../errors.ts";
import { canSeeApp } from "../identity/principal.ts";
import type { DeisHttp, P } from "./http.ts";
import { body, paged, text } from "./http.ts";
import { deisTime, ownerOf } from "./views.ts";

/** Deis' date format from an X509 date ("Jan  1 00:00:00 2030 GMT"). */
const x509Time = (t: string) => deisTime(new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z"));

export function certRoutes(s: FastifyInstance, h: DeisHttp): void {
  const { apps } = h.deps;
  const visible = (req: Parameters<DeisHttp["who"]>[0]) => {
    const p = h.who(req);
    return { p, list: apps.apps().filter((a) => canSeeApp(p, a)) };
  };
  const certs = async (list: App[]) => {
    const out = new Map<string, { app: App; view: Record<string, unknown> }[]>();
    for (const app of list.filter((a) => a.spec.tls)) {
      const x509 = await appCertificate(h.deps, app);
      if (!x509) continue;
      const cn = commonName(x509);
      const view = { common_name: cn, expires: x509Time(x509.validTo), owner: ownerOf(app), created: deisTime(app.metadata.creationTimestamp), updated: deisTime(app.metadata.creationTimestamp) };
      out.set(cn, [...(out.get(cn) ?? []), { app, view }]);
    }
    return out;
  };

  s.get("/certs", async (req) => {
    const { list } = visible(req);
    return paged(
      req,
      [...(await certs(list)).values()].map((x) => x[0]!.view),
    );
  });
  s.get<P<"cn">>("/certs/:cn", async (req) => {
    const found = (await certs(visible(req).list)).get(req.params.cn);
    if (!found) throw notFound("Not found.");
    return found[0]!.view;
  });
  s.post("/certs", async (req, reply) => {
    const { p, list } = visible(req);
    const b = body(req);
    const certificate = text(b, "certificate");
    const key = text(b, "key");
    if (!certificate) throw badRequest("certificate", { certificate: ["This field is required."] });
    if (!key) throw badRequest("key", { key: ["This field is required."] });
    const parsed = parseCertificate(certificate, key);
    if ("error" in parsed) throw badRequest(parsed.message, { [parsed.error]: [parsed.message] });
    const cn = text(b, "common_name") || commonName(parsed.x509);
    if (!cn || !parsed.x509.checkHost(cn)) throw badRequest("common_name", { common_name: [`The certificate is not valid for ${cn || "an empty name"}.`] });
    const targets = list.filter((a) => a.spec.domains?.includes(cn));
    if (!targets.length) throw badRequest(`No application of yours has the domain ${cn}: add it first (deis domains:add ${cn}).`);
    if ((await certs(targets)).has(cn)) throw badRequest("common_name", { common_name: ["This field must be unique."] });
    for (const app of targets) await setAppCertificate(h.deps, app, certificate, key, h.username(p));
    return reply.code(201).send({ common_name: cn, expires: x509Time(parsed.x509.validTo), owner: h.username(p), created: deisTime(new Date().toISOString()), updated: deisTime(new Date().toISOString()) });
  });
  s.delete<P<"cn">>("/certs/:cn", async (req, reply) => {
    const { p, list } = visible(req);
    const found = (await certs(list)).get(req.params.cn);
    if (!found) throw notFound("Not found.");
    for (const { app } of found) await removeAppCertificate(h.deps, app, h.username(p));
    return reply.code(204).send();
  });
}
