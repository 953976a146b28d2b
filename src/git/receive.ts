// One push: a temporary bare repository (deleted afterwards: the source lives on only as an
// image layer in the registry), the real `git receive-pack` speaking the pack protocol over the
// SSH channel, and a pre-receive hook (hook.ts) that hands the ref updates to onPush while the
// pushed objects are still in quarantine. onPush failing rejects the push.
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { gzip } from "../builder/tar.ts";
import type { Logger } from "../log.ts";
import { HOOK_SOCKET_ENV, hookScript, parseHookRequest } from "./hook.ts";
import { warn } from "./output.ts";
import type { RefUpdate } from "./refs.ts";
import { parseRefUpdates } from "./refs.ts";

/** The pushed tree of one revision, read from the quarantined objects. */
export interface PushedTree {
  /** Whether the tree has this path (e.g. "Dockerfile"). */
  has(path: string): Promise<boolean>;
  /** Names at the tree's root. */
  rootNames(): Promise<string[]>;
  /** The tree as a tar.gz; refused when the tar exceeds maxBytes. */
  archive(maxBytes: number): Promise<Buffer>;
}

/** Builds and releases a push; throws (with the reason) to reject it. say() prints a line to the client. */
export type OnPush = (updates: RefUpdate[], tree: (rev: string) => PushedTree, say: (line: string) => void) => Promise<void>;

/** The SSH exec channel: the client's stdin as readable, its stdout as writable, and its stderr. */
export type Channel = Readable & Writable & { stderr: Writable };

interface Ran {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs git; stdout is collected up to maxBytes (more kills it and fails). */
function git(args: string[], o: { cwd?: string; env?: Record<string, string>; maxBytes?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let size = 0;
    let err = "";
    let over = false;
    child.stdout.on("data", (c: Buffer) => {
      size += c.length;
      if (o.maxBytes !== undefined && size > o.maxBytes) {
        over = true;
        child.kill();
      } else out.push(c);
    });
    child.stderr.on("data", (c: Buffer) => (err = (err + c.toString("utf8")).slice(-4000)));
    child.on("error", reject);
    child.on("close", (code) => {
      if (over) reject(new Error(`the pushed tree is over ${Math.round((o.maxBytes ?? 0) / 2 ** 20)} MiB`));
      else resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err.trim() });
    });
  });
}

function pushedTree(repo: string, rev: string, env: Record<string, string>): PushedTree {
  if (!/^[0-9a-f]{40,64}$/.test(rev)) throw new Error(`not a revision: ${rev}`);
  return {
    has: async (path) => (await git(["cat-file", "-e", `${rev}:${path}`], { cwd: repo, env })).code === 0,
    rootNames: async () => {
      const r = await git(["ls-tree", "--name-only", rev], { cwd: repo, env });
      if (r.code !== 0) throw new Error(`git ls-tree: ${r.stderr}`);
      return r.stdout.toString("utf8").split("\n").filter(Boolean);
    },
    archive: async (maxBytes) => {
      const r = await git(["archive", "--format=tar", rev], { cwd: repo, env, maxBytes });
      if (r.code !== 0) throw new Error(`git archive: ${r.stderr}`);
      return gzip(r.stdout);
    },
  };
}

/** Serves the hook's one request: onPush's output, then NUL and the exit status. */
function hookServer(repo: string, onPush: OnPush, log: Logger): net.Server {
  return net.createServer({ allowHalfOpen: true }, (sock) => {
    const chunks: Buffer[] = [];
    sock.on("error", (e) => log.warn("git hook connection failed", { error: e.message }));
    sock.on("data", (c: Buffer) => chunks.push(c));
    sock.on("end", () => {
      const say = (line: string) => {
        if (!sock.destroyed) sock.write(`${line.replace(/\0/g, "")}\n`);
      };
      void (async () => {
        let code = 0;
        try {
          const req = parseHookRequest(Buffer.concat(chunks).toString("utf8"));
          await onPush(parseRefUpdates(req.refs), (rev) => pushedTree(repo, rev, req.env), say);
        } catch (e) {
          code = 1;
          for (const l of (e instanceof Error ? e.message : String(e)).split("\n")) say(warn(l));
        }
        if (!sock.destroyed) sock.end(`\0${code}`);
      })();
    });
  });
}

/** Runs git receive-pack for one push on the channel; resolves with its exit status. */
export async function receivePack(channel: Channel, onPush: OnPush, o: { tmpDir: string; log: Logger }): Promise<number> {
  const dir = await mkdtemp(join(o.tmpDir, "berth-git-"));
  const server = hookServer(join(dir, "repo.git"), onPush, o.log);
  try {
    const repo = join(dir, "repo.git");
    const init = await git(["init", "--bare", "--quiet", "--template=", repo]);
    if (init.code !== 0) throw new Error(`git init: ${init.stderr}`);
    await mkdir(join(repo, "hooks"), { recursive: true });
    const hook = join(repo, "hooks", "pre-receive");
    await writeFile(hook, hookScript(process.execPath));
    await chmod(hook, 0o755);
    const socket = join(dir, "hook.sock");
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socket, () => resolve());
    });
    const child = spawn("git", ["receive-pack", repo], { env: { ...process.env, [HOOK_SOCKET_ENV]: socket }, stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.on("error", () => undefined); // the client may send after receive-pack has exited
    channel.pipe(child.stdin);
    child.stdout.pipe(channel, { end: false });
    child.stderr.pipe(channel.stderr, { end: false });
    const gone = () => child.kill();
    channel.once("close", gone);
    const code = await new Promise<number>((resolve) => {
      child.on("error", (e) => {
        channel.stderr.write(`berth: could not run git receive-pack: ${e.message}\n`);
        resolve(1);
      });
      child.on("close", (c) => resolve(c ?? 1));
    });
    channel.off("close", gone);
    channel.unpipe(child.stdin);
    return code;
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
