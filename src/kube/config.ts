// Where Berth's processes reach kube-apiserver and who they are there, found as kubectl finds it:
// the files in $KUBECONFIG (merged, the first to set a name wins), else ~/.kube/config, else the
// pod's service account. Servers, certificates, bearer tokens, token files, basic auth and
// impersonation are read here. A user entry with an `exec` plugin or an `auth-provider` (the cloud
// logins), or a cluster behind a proxy, is handed to @kubernetes/client-node, imported only then:
// the library keeps ~15 MiB of generated API sources in the heap (~40 MiB of RSS), which an
// operator that needs none of them should not carry (docs/runtime.md).
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isIPv6 } from "node:net";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import type https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { parse } from "yaml";

/** How to reach kube-apiserver: its URL, TLS material, and the headers that authenticate. */
export interface Connection {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  skipTLSVerify: boolean;
  /** Authentication headers, read anew on each call (service-account tokens rotate on disk). */
  headers(): Promise<Record<string, string>>;
}

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

type Named<T> = { name: string } & T;
interface ClusterEntry {
  server?: string;
  "certificate-authority"?: string;
  "certificate-authority-data"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "proxy-url"?: string;
}
interface UserEntry {
  "client-certificate"?: string;
  "client-certificate-data"?: string;
  "client-key"?: string;
  "client-key-data"?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  as?: string;
  "as-groups"?: string[];
  exec?: unknown;
  "auth-provider"?: unknown;
}
interface KubeconfigFile {
  "current-context"?: string;
  clusters?: Named<{ cluster?: ClusterEntry }>[];
  users?: Named<{ user?: UserEntry }>[];
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
}

/** A cluster or user entry with its relative file paths made absolute against its own file's folder. */
function resolvePaths<T extends object>(entry: T | undefined, dir: string, keys: (keyof T)[]): T {
  const out = { ...entry } as T;
  for (const k of keys) {
    const v = out[k];
    if (typeof v === "string" && v && !isAbsolute(v)) out[k] = join(dir, v) as T[keyof T];
  }
  return out;
}

interface Merged {
  currentContext?: string;
  clusters: Map<string, ClusterEntry>;
  users: Map<string, UserEntry>;
  contexts: Map<string, { cluster?: string; user?: string }>;
}

/** The kubeconfig files merged as kubectl merges them: for each name, the first file that sets it wins. */
export function mergeKubeconfigs(files: string[]): Merged {
  const m: Merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of files) {
    const doc = (parse(readFileSync(file, "utf8")) ?? {}) as KubeconfigFile;
    const dir = dirname(file);
    m.currentContext ??= doc["current-context"] || undefined;
    for (const c of doc.clusters ?? []) if (!m.clusters.has(c.name)) m.clusters.set(c.name, resolvePaths(c.cluster, dir, ["certificate-authority"]));
    for (const u of doc.users ?? []) if (!m.users.has(u.name)) m.users.set(u.name, resolvePaths(u.user, dir, ["client-certificate", "client-key", "tokenFile"]));
    for (const c of doc.contexts ?? []) if (!m.contexts.has(c.name)) m.contexts.set(c.name, c.context ?? {});
  }
  return m;
}

const fileOrData = (file: string | undefined, data: string | undefined): Buffer | undefined =>
  file ? readFileSync(file) : data ? Buffer.from(data, "base64") : undefined;

/** The connection a merged kubeconfig's current context names, or undefined when it needs client-node's auth plugins. */
export function connectionFromKubeconfig(m: Merged, source: string): Connection | undefined {
  const name = m.currentContext;
  if (!name) throw new Error(`${source}: no current-context is set (kubectl config use-context NAME)`);
  const context = m.contexts.get(name);
  if (!context) throw new Error(`${source}: the current context "${name}" is not defined`);
  const cluster = m.clusters.get(context.cluster ?? "");
  if (!cluster?.server) throw new Error(`${source}: the context "${name}" names no cluster with a server`);
  const user = m.users.get(context.user ?? "") ?? {};
  if (user.exec || user["auth-provider"] || cluster["proxy-url"]) return undefined;
  const token = user.token;
  const tokenFile = user.tokenFile;
  const fixed: Record<string, string> = {};
  if (user.username !== undefined && user.password !== undefined) fixed.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`;
  if (token) fixed.Authorization = `Bearer ${token}`;
  if (user.as) fixed["Impersonate-User"] = user.as;
  return {
    server: cluster.server,
    ca: fileOrData(cluster["certificate-authority"], cluster["certificate-authority-data"]),
    cert: fileOrData(user["client-certificate"], user["client-certificate-data"]),
    key: fileOrData(user["client-key"], user["client-key-data"]),
    skipTLSVerify: cluster["insecure-skip-tls-verify"] === true,
    headers: async () => (tokenFile && !token ? { ...fixed, Authorization: `Bearer ${readFileSync(tokenFile, "utf8").trim()}` } : fixed),
  };
}

/** The pod's own service account, as client-go's InClusterConfig reads it. */
export function inClusterConnection(root = SERVICE_ACCOUNT): Connection {
  const host = process.env.KUBERNETES_SERVICE_HOST ?? "";
  const port = process.env.KUBERNETES_SERVICE_PORT ?? "443";
  if (!host) throw new Error("in a pod, but KUBERNETES_SERVICE_HOST is not set");
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(root, "ca.crt")),
    skipTLSVerify: false,
    headers: async () => ({ Authorization: `Bearer ${readFileSync(join(root, "token"), "utf8").trim()}` }),
  };
}

/** A connection from a client-node KubeConfig: its current cluster, with headers from its authenticators. */
export async function connectionFromClientNode(kc: KubeConfig): Promise<Connection> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const asBuffer = (v: unknown) => (v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
  return {
    server: cluster.server,
    ca: asBuffer(opts.ca),
    cert: asBuffer(opts.cert),
    key: asBuffer(opts.key),
    skipTLSVerify: opts.rejectUnauthorized === false || cluster.skipTLSVerify === true,
    headers: async () => {
      const o: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(o);
      const h: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.headers ?? {})) if (typeof v === "string") h[k] = v;
      return h;
    },
  };
}

/** The connection kubectl would use here: $KUBECONFIG, ~/.kube/config, or the pod's service account. */
export async function loadConnection(env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const files = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  const home = join(env.HOME || homedir(), ".kube", "config");
  const sources = files.length ? files.filter(existsSync) : existsSync(home) ? [home] : [];
  if (files.length && !sources.length) throw new Error(`KUBECONFIG names no file that exists: ${files.join(delimiter)}`);
  if (sources.length) {
    const conn = connectionFromKubeconfig(mergeKubeconfigs(sources), sources.join(delimiter));
    if (conn) return conn;
    const { KubeConfig } = await import("@kubernetes/client-node");
    const kc = new KubeConfig();
    kc.loadFromFile(sources[0]!);
    for (const file of sources.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more);
    }
    return connectionFromClientNode(kc);
  }
  if (existsSync(join(SERVICE_ACCOUNT, "token"))) return inClusterConnection();
  throw new Error("no cluster to connect to: set KUBECONFIG, write ~/.kube/config, or run in a pod with a service account");
}
