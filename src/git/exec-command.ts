// The command a git client asks the SSH server to run: `git-receive-pack '/APP.git'` (push) or
// `git-upload-pack '/APP.git'` (fetch, clone), with or without the leading slash, the quotes or
// the ".git" suffix, as deis/builder's cleanRepoName accepted them.
import { NAME } from "../api/identity/store.ts";

export type GitService = "git-receive-pack" | "git-upload-pack";

export type GitCommand = { service: GitService; app: string } | { error: string };

const SERVICES: Record<string, GitService> = {
  "git-receive-pack": "git-receive-pack",
  "git receive-pack": "git-receive-pack",
  "git-upload-pack": "git-upload-pack",
  "git upload-pack": "git-upload-pack",
};

const USAGE = "Berth's git endpoint only receives pushes: git push ssh://git@HOST:2222/APP.git master (deis git:remote -a APP adds the remote)";

export function parseGitCommand(raw: string): GitCommand {
  const m = /^\s*(git[- ](?:receive|upload)-pack)\s+(.+?)\s*$/.exec(raw);
  const service = m ? SERVICES[m[1]!] : undefined;
  if (!m || !service) return { error: `${USAGE}; "${raw.slice(0, 80)}" is not a git command` };
  let repo = m[2]!;
  const quoted = /^'(.*)'$/.exec(repo) ?? /^"(.*)"$/.exec(repo);
  if (quoted) repo = quoted[1]!;
  repo = repo.replace(/^\/+/, "").replace(/\/+$/, "").replace(/\.git$/, "");
  if (!repo) return { error: "No repository given: push to /APP.git" };
  if (repo.includes("/") || repo.includes("..")) return { error: `"${repo}" is not an app: push to /APP.git` };
  if (!NAME.test(repo) || repo.length > 63) return { error: `"${repo}" is not an app name: app names are lower-case letters, digits and dashes` };
  return { service, app: repo };
}
