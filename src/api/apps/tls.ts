// An app's TLS certificate: a kubernetes.io/tls Secret owned by the App, named on App.spec.tls
// (the Ingress serves it for the app's domains). Shared by the dialects that manage it.
import { X509Certificate, createPrivateKey } from "node:crypto";
import type { KubeObject } from "../../kube/resource.ts";
import { Types } from "../../kube/resource.ts";
import type { App } from "../../model/kinds.ts";
import { Labels } from "../../model/kinds.ts";
import { withOwner } from "../../runtime/status.ts";
import type { ApiDeps } from "../deps.ts";
import { fromKubernetes } from "../errors.ts";

type Secret = KubeObject & { data?: Record<string, string> };
export const appTlsSecretName = (app: string) => `${app}-tls`;

/** The certificate when it parses and the key matches it; a reason otherwise. */
export function parseCertificate(certificate: string, key: string): { x509: X509Certificate } | { error: "certificate" | "key"; message: string } {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certificate);
  } catch (e) {
    return { error: "certificate", message: `Could not load certificate: ${e instanceof Error ? e.message : String(e)}` };
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key))) return { error: "key", message: "The key does not match the certificate." };
  } catch (e) {
    return { error: "key", message: `Could not load key: ${e instanceof Error ? e.message : String(e)}` };
  }
  return { x509 };
}

/** The subject's common name ("CN=www.example.com" -> "www.example.com"). */
export const commonName = (x509: X509Certificate) => /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1] ?? "";

/** Writes the app's TLS Secret and names it on the App. */
export async function setAppCertificate(deps: ApiDeps, app: App, certificate: string, key: string, actor: string): Promise<void> {
  const name = appTlsSecretName(app.metadata.name ?? "");
  const secret = withOwner(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: app.metadata.namespace, labels: { [Labels.app]: app.metadata.name ?? "", [Labels.managedBy]: "berth" } },
      type: "kubernetes.io/tls",
      data: { "tls.crt": Buffer.from(certificate).toString("base64"), "tls.key": Buffer.from(key).toString("base64") },
    },
    app,
  );
  await deps.client.apply(Types.Secret, secret, "berth-api", { force: true }).catch((e: unknown) => {
    throw fromKubernetes(e, "certificate");
  });
  await deps.apps.patch(app, { tls: { secretName: name } }, actor);
}

/** The app's certificate, parsed, if it has one. */
export async function appCertificate(deps: ApiDeps, app: App): Promise<X509Certificate | undefined> {
  if (!app.spec.tls) return undefined;
  const s = await deps.client.getOrUndefined<Secret>(Types.Secret, app.metadata.namespace, app.spec.tls.secretName);
  const pem = s?.data?.["tls.crt"] ? Buffer.from(s.data["tls.crt"], "base64").toString("utf8") : "";
  try {
    return pem ? new X509Certificate(pem) : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the app's certificate. */
export async function removeAppCertificate(deps: ApiDeps, app: App, actor: string): Promise<void> {
  if (!app.spec.tls) return;
  await deps.apps.patch(app, { tls: null }, actor);
  await deps.client.delete(Types.Secret, app.metadata.namespace, app.spec.tls.secretName).catch(() => undefined);
}
