// tsuru app certificates: a TLS Secret for the app's domains (the Ingress serves it), and app
// version removal (an old Release and its env Secret).
import { X509Certificate, createPrivateKey } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { KubeObject } from "../../kube/resource.ts";
import { Types } from "../../kube/resource.ts";
import { BerthTypes } from "../../model/kinds.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, notFound } from "../errors.ts";
import { requireApp } from "../identity/principal.ts";
import { setAppCertificate } from "../apps/tls.ts";
import { caller, form, required, str, versionAtLeast } from "./http.ts";

type P<T extends string> = { Params: Record<T, string> };
type Secret = KubeObject & { data?: Record<string, string> };
/** The router tsuru shows for an app's domains: Berth routes with one Ingress per app. */
const ROUTER = "ingress";

export function certificateRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { apps, client } = deps;

  // Two shapes by version (tsuru/tsuru:api/server.go registers GET /1.2 and /1.24 here):
  // 1.24+ (CLI 1.34's certificate list): {"routers": {R: {"cnames": {C: {"certificate", "issuer"}}}}}
  // (tsuru/tsuru-client:tsuru/client/certificate.go appCertificate); before: {R: {C: "PEM"}}
  // (tsuru/tsuru:api/certificate.go listCertificatesLegacy, cnames without a certificate left out).
  s.get<P<"app">>("/apps/:app/certificate", async (req) => {
    const app = requireApp(caller(deps, req), apps.app(req.params.app), req.params.app);
    let cert = "";
    if (app.spec.tls) {
      const secret = await client.getOrUndefined<Secret>(Types.Secret, app.metadata.namespace, app.spec.tls.secretName);
      cert = secret?.data?.["tls.crt"] ? Buffer.from(secret.data["tls.crt"], "base64").toString("utf8") : "";
    }
    const cnames = cert ? (app.spec.domains ?? []) : [];
    if (versionAtLeast(req, 1, 24)) {
      return { routers: { [ROUTER]: { cnames: Object.fromEntries(cnames.map((d) => [d, { certificate: cert, issuer: "" }])) } } };
    }
    return { [ROUTER]: Object.fromEntries(cnames.map((d) => [d, cert])) };
  });

  s.put<P<"app">>("/apps/:app/certificate", async (req, reply) => {
    const p = caller(deps, req);
    const app = requireApp(p, apps.app(req.params.app), req.params.app);
    const f = form(req);
    const cname = required(f, "cname", "You must provide a cname.");
    required(f, "certificate", "You must provide a certificate.");
    required(f, "key", "You must provide a key.");
    // PEM as sent (required() trims, and the certificate is stored byte for byte).
    const certificate = str(f, "certificate")!;
    const key = str(f, "key")!;
    if (!app.spec.domains?.includes(cname)) throw notFound(`invalid name: ${cname} is not a cname of the app`);
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(certificate);
      const pk = createPrivateKey(key);
      if (!x509.checkPrivateKey(pk)) throw new Error("mismatch");
    } catch {
      throw badRequest("x509: the certificate is not valid PEM, or the key does not match it");
    }
    if (!x509.checkHost(cname)) throw badRequest(`x509: certificate is not valid for ${cname}`);
    await setAppCertificate(deps, app, certificate, key, p.email ?? p.name);
    return reply.code(200).send();
  });

  s.delete<P<"app">>("/apps/:app/certificate", async (req, reply) => {
    const p = caller(deps, req);
    const app = requireApp(p, apps.app(req.params.app), req.params.app);
    const cname = str(form(req), "cname");
    if (!app.spec.tls || (cname && !app.spec.domains?.includes(cname))) throw notFound("certificate not found");
    await apps.patch(app, { tls: null }, p.email ?? p.name);
    await client.delete(Types.Secret, app.metadata.namespace, app.spec.tls.secretName).catch(() => undefined);
    return reply.code(200).send();
  });

  s.delete<P<"app" | "version">>("/apps/:app/versions/:version", async (req, reply) => {
    const app = requireApp(caller(deps, req), apps.app(req.params.app), req.params.app);
    const v = Number(req.params.version.replace(/^v/, ""));
    const r = apps.releases(app).find((x) => x.spec.version === v);
    if (!r) throw notFound(`version ${req.params.version} not found`);
    if (v === app.status?.currentReleaseVersion) throw badRequest("the version in use cannot be removed");
    await client.delete(BerthTypes.Release, r.metadata.namespace, r.metadata.name ?? "", { propagationPolicy: "Background" });
    return reply.code(200).send();
  });
}
