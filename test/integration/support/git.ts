// The real git and ssh clients against Berth's git endpoint: a command run to its end, a key
// made with ssh-keygen, a repository of files committed, and a push with one key.
import { execFile } from "node:child_process";
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Ran {
  code: number;
  /** stdout and stderr together. */
  out: string;
}

/** Runs a command; never throws: its exit status and output. */
export function run(cmd: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: o.cwd, env: { ...process.env, ...o.env }, maxBuffer: 16 * 2 ** 20, timeout: 240_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** A new key pair at path (and path.pub), ed25519 unless type says rsa; returns the public key line. */
export async function sshKey(path: string, comment = "test@laptop", type: "ed25519" | "rsa" = "ed25519"): Promise<string> {
  const r = await run("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-C", comment, "-f", path]);
  if (r.code !== 0) throw new Error(`ssh-keygen: ${r.out}`);
  return readFileSync(`${path}.pub`, "utf8").trim();
}

/** GIT_SSH_COMMAND for one key, no host key checks (the endpoint's key is new each run). */
export const sshWith = (key: string) => `ssh -i ${key} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;

/** Writes (or, for undefined, removes) files in repo and commits them; inits repo on master first when asked. */
export async function commitFiles(repo: string, files: Record<string, string | undefined>, message: string, init = false): Promise<void> {
  if (init && (await run("git", ["init", "-q", "-b", "master", repo])).code !== 0) throw new Error(`git init ${repo}`);
  for (const [name, text] of Object.entries(files)) {
    if (text === undefined) unlinkSync(join(repo, name));
    else writeFileSync(join(repo, name), text);
  }
  const add = await run("git", ["add", "-A", "."], { cwd: repo });
  const commit = await run("git", ["-c", "user.email=dev@example.com", "-c", "user.name=dev", "commit", "-qm", message], { cwd: repo });
  if (add.code !== 0 || commit.code !== 0) throw new Error(`git commit: ${add.out}${commit.out}`);
}

/** git push of ref to the endpoint's APP.git with key. */
export const gitPush = (repo: string, port: number, app: string, key: string, ref = "master") =>
  run("git", ["push", `ssh://git@127.0.0.1:${port}/${app}.git`, ref], { cwd: repo, env: { GIT_SSH_COMMAND: sshWith(key), GIT_TERMINAL_PROMPT: "0" } });
