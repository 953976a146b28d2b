// Fault injection on the local control plane: stop and start components, edit etcd directly.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = process.env.BERTH_ROOT ?? process.cwd();

export async function clusterCtl(action: "stop" | "start", component: string): Promise<void> {
  await run("bash", [`${root}/hack/cluster.sh`, action, component], { env: process.env });
}

function etcdURL(path: string): string {
  const port = process.env.BERTH_ETCD_PORT;
  if (!port) throw new Error("BERTH_ETCD_PORT is not set (run under hack/test.sh or eval hack/cluster.sh env)");
  return `http://127.0.0.1:${port}${path}`;
}

async function etcd<T>(path: string, body: object): Promise<T> {
  const res = await fetch(etcdURL(path), { method: "POST", body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

/** Deletes an object behind the API server's back (only while it is stopped!). */
export async function etcdDelete(key: string): Promise<number> {
  const r = await etcd<{ deleted?: string }>("/v3/kv/deleterange", { key: b64(key) });
  return Number(r.deleted ?? 0);
}

/** Compacts etcd's history up to its current revision. */
export async function etcdCompact(): Promise<string> {
  const r = await etcd<{ header: { revision: string } }>("/v3/kv/range", { key: b64("/registry/health") });
  await etcd("/v3/kv/compaction", { revision: r.header.revision, physical: true });
  return r.header.revision;
}
