// The pre-receive hook git receive-pack runs in each push's temporary repository. It only
// relays: the ref updates (and the quarantine environment that makes the pushed objects
// readable before they are accepted) go over a Unix socket to the git endpoint's process, which
// builds and releases; what comes back is the build's output, which git shows the client as
// "remote: ..." lines, then a NUL and the exit status (non-zero rejects the push, as Deis'
// builder did: "! [remote rejected] master -> master (pre-receive hook declined)").

/** The environment git gives the hook that locates the pushed, not yet accepted, objects. */
export const QUARANTINE_ENV = ["GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_QUARANTINE_PATH"];

/** The socket's path reaches the hook in this variable (set on git receive-pack, inherited). */
export const HOOK_SOCKET_ENV = "BERTH_GIT_HOOK_SOCKET";

/** The hook as a Node.js script (CommonJS) run by the given node binary. */
export function hookScript(nodePath: string): string {
  return `#!${nodePath}
"use strict";
const net = require("node:net");
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const env = {};
  for (const k of ${JSON.stringify(QUARANTINE_ENV)}) if (process.env[k]) env[k] = process.env[k];
  const s = net.connect(process.env.${HOOK_SOCKET_ENV});
  s.end(JSON.stringify({ refs: Buffer.concat(chunks).toString("utf8"), env }) + "\\n");
  let tail = null;
  s.on("data", (d) => {
    if (tail !== null) return void (tail = Buffer.concat([tail, d]));
    const i = d.indexOf(0);
    if (i < 0) return void process.stdout.write(d);
    process.stdout.write(d.subarray(0, i));
    tail = d.subarray(i + 1);
  });
  s.on("error", (e) => {
    process.stdout.write("berth: the build is unreachable: " + e.message + "\\n");
    process.exit(1);
  });
  s.on("close", () => {
    const code = tail === null ? 1 : Number(tail.toString("utf8").trim());
    process.exitCode = Number.isInteger(code) ? code : 1;
  });
});
`;
}

export interface HookRequest {
  refs: string;
  env: Record<string, string>;
}

/** The hook's request, keeping only the quarantine variables (never anything else from the wire). */
export function parseHookRequest(text: string): HookRequest {
  const raw = JSON.parse(text) as { refs?: unknown; env?: unknown };
  const env: Record<string, string> = {};
  const given = raw.env && typeof raw.env === "object" ? (raw.env as Record<string, unknown>) : {};
  for (const k of QUARANTINE_ENV) if (typeof given[k] === "string") env[k] = given[k] as string;
  return { refs: typeof raw.refs === "string" ? raw.refs : "", env };
}
