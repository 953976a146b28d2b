// Aggregated mode: kube-apiserver's aggregator forwards requests with the caller's identity
// in X-Remote-User / X-Remote-Group headers, over TLS with its front-proxy client
// certificate. Those headers are believed only after that certificate is verified against
// the request-header CA kube-apiserver publishes (kube-system/extension-apiserver-authentication)
// and its name is one of the allowed names.
import type { TLSSocket } from "node:tls";
import type { FastifyRequest } from "fastify";
import type { KubeClient } from "../../kube/client.ts";
import type { KubeObject } from "../../kube/resource.ts";
import { Types } from "../../kube/resource.ts";
import type { User } from "../../model/kinds.ts";
import { unauthorized } from "../errors.ts";
import type { Principal } from "./principal.ts";
import { teamsOf } from "./principal.ts";

export interface FrontProxyConfig {
  clientCA: string;
  allowedNames: string[];
  usernameHeaders: string[];
  groupHeaders: string[];
}

/** Reads what kube-apiserver publishes for extension API servers. */
export async function loadFrontProxyConfig(client: KubeClient): Promise<FrontProxyConfig> {
  const cm = await client.get<KubeObject & { data?: Record<string, string> }>(Types.ConfigMap, "kube-system", "extension-apiserver-authentication");
  const d = cm.data ?? {};
  const list = (k: string, fallback: string[]) => (d[k] ? (JSON.parse(d[k]) as string[]) : fallback);
  const clientCA = d["requestheader-client-ca-file"];
  if (!clientCA) throw new Error("kube-apiserver publishes no request-header CA: start it with --requestheader-client-ca-file");
  return {
    clientCA,
    allowedNames: list("requestheader-allowed-names", []),
    usernameHeaders: list("requestheader-username-headers", ["X-Remote-User"]),
    groupHeaders: list("requestheader-group-headers", ["X-Remote-Group"]),
  };
}

/** The caller of a proxied request; 401 unless the front proxy's certificate checks out. */
export function frontProxyPrincipal(req: FastifyRequest, cfg: FrontProxyConfig, users: readonly User[]): Principal {
  const socket = req.raw.socket as TLSSocket;
  if (!socket.authorized) throw unauthorized("the request did not come through kube-apiserver's front proxy");
  const cn = socket.getPeerCertificate()?.subject?.CN;
  if (cfg.allowedNames.length && (!cn || !cfg.allowedNames.includes(String(cn)))) throw unauthorized(`front-proxy certificate "${String(cn)}" is not allowed`);
  // headersDistinct keeps repeated headers apart (one X-Remote-Group per group).
  const header = (names: string[]) => names.flatMap((n) => req.raw.headersDistinct[n.toLowerCase()] ?? []);
  const name = header(cfg.usernameHeaders)[0];
  if (!name) throw unauthorized("the front proxy sent no user");
  const groups = header(cfg.groupHeaders);
  const user = users.find((u) => u.spec.email === name || u.spec.username === name);
  const teams = new Set([...(user ? teamsOf(user) : []), ...groups.filter((g) => g.startsWith("berth:team:")).map((g) => g.slice("berth:team:".length))]);
  return {
    name,
    email: user?.spec.email ?? name,
    admin: groups.includes("system:masters") || (user?.spec.admin ?? false),
    teams,
    ...(user ? { user } : {}),
    tokenHash: "",
  };
}
