// The SSH side of the git endpoint (ssh2): public-key authentication against the keys users
// registered through Deis /v1/keys, then one exec per session: `git-receive-pack '/APP.git'`
// from a user who may deploy APP runs a push (receive.ts, deploy.ts); anything else is refused
// on stderr with a non-zero exit status. One push per app at a time, as Deis' builder allowed.
import type { AuthContext, Connection, ServerChannel } from "ssh2";
import ssh2 from "ssh2";
import type { App, User } from "../model/kinds.ts";
import { BerthTypes } from "../model/kinds.ts";
import type { SourceDeps } from "../api/apps/source.ts";
import { canSeeApp, userPrincipal } from "../api/identity/principal.ts";
import { ownerOfKey, sha256Fingerprint } from "../api/identity/ssh-keys.ts";
import type { Logger } from "../log.ts";
import { deployPush } from "./deploy.ts";
import { parseGitCommand } from "./exec-command.ts";
import { receivePack } from "./receive.ts";
import { deployedUpdate } from "./refs.ts";

export interface GitServerOptions {
  hostKey: string;
  appsDomain: string;
  tmpDir: string;
  rolloutTimeoutMs: number;
}

/** Refused exec and shell requests: a message on stderr and exit status 1. */
function refuse(channel: ServerChannel, message: string): void {
  channel.stderr.write(`${message}\n`);
  channel.exit(1);
  channel.end();
}

/** Why the user may not push to the app, or undefined when they may (owner, collaborator or admin: Deis' rule). */
export function pushRefusal(user: User, app: App | undefined, name: string): string | undefined {
  if (app && canSeeApp(userPrincipal(user), app)) return undefined;
  // Apps a user may not see do not exist for them (as in every dialect).
  return `App ${name} not found, or ${user.spec.username ?? user.spec.email} has no permission on it (its owner grants it: deis perms:create USER -a ${name}).`;
}

export function gitServer(deps: SourceDeps, o: GitServerOptions, log: Logger): ssh2.Server {
  const users = () => deps.informers.informerFor<User>(BerthTypes.User).store.list();
  const pushing = new Set<string>();

  const server = new ssh2.Server({ hostKeys: [o.hostKey], ident: "Berth-git" }, (conn: Connection) => {
    let user: User | undefined;
    let keyFingerprint = "";
    conn.on("error", (e) => log.debug("ssh connection error", { error: e.message }));
    conn.on("authentication", (ctx: AuthContext) => {
      if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
      const owner = ownerOfKey(users(), ctx.key.data);
      if (!owner) return ctx.reject(["publickey"]);
      if (ctx.signature && ctx.blob) {
        const parsed = ssh2.utils.parseKey(owner.publicKey);
        if (parsed instanceof Error || !parsed.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return ctx.reject(["publickey"]);
        user = owner.user;
        keyFingerprint = sha256Fingerprint(ctx.key.data);
      }
      ctx.accept();
    });
    conn.on("ready", () => {
      conn.on("session", (acceptSession) => {
        const session = acceptSession();
        session.on("shell", (accept) => {
          refuse(accept(), `Hi ${user?.spec.username ?? user?.spec.email}! You've authenticated, but Berth does not provide shell access: git push to ssh://git@HOST:2222/APP.git`);
        });
        session.on("exec", (accept, _reject, info) => {
          const channel = accept();
          void handleExec(channel, info.command).catch((e: unknown) => {
            log.warn("git push failed", { error: String(e) });
            refuse(channel, `berth: ${e instanceof Error ? e.message : String(e)}`);
          });
        });
      });
    });

    async function handleExec(channel: ServerChannel, command: string): Promise<void> {
      if (!user) return refuse(channel, "not authenticated");
      const who = user.spec.username ?? user.spec.email;
      const cmd = parseGitCommand(command);
      if ("error" in cmd) return refuse(channel, cmd.error);
      const fresh = users().find((u) => u.metadata.uid === user?.metadata.uid) ?? user;
      const app = deps.apps.app(cmd.app);
      const refusal = pushRefusal(fresh, app, cmd.app);
      if (refusal || !app) return refuse(channel, refusal ?? "");
      if (cmd.service === "git-upload-pack") return refuse(channel, `Berth keeps no repository of ${cmd.app} to fetch or clone: a push is built into an image and its source is not kept.`);
      if (pushing.has(cmd.app)) return refuse(channel, `Another git push to ${cmd.app} is ongoing: try again when it is done.`);
      pushing.add(cmd.app);
      const started = Date.now();
      log.info("git push", { app: cmd.app, user: who, key: keyFingerprint });
      try {
        const code = await receivePack(
          channel,
          async (updates, tree, say) => {
            const update = deployedUpdate(updates);
            if ("error" in update) throw new Error(update.error);
            // The app as it is now: the push took a while to arrive.
            const current = deps.apps.app(cmd.app);
            const again = pushRefusal(users().find((u) => u.metadata.uid === fresh.metadata.uid) ?? fresh, current, cmd.app);
            if (again || !current) throw new Error(again ?? `App ${cmd.app} not found.`);
            const { version } = await deployPush(deps, { app: current, author: who, update, tree: tree(update.newRev), appsDomain: o.appsDomain, rolloutTimeoutMs: o.rolloutTimeoutMs, say });
            log.info("git push deployed", { app: cmd.app, user: who, version, ms: Date.now() - started });
          },
          { tmpDir: o.tmpDir, log },
        );
        channel.exit(code);
        channel.end();
      } finally {
        pushing.delete(cmd.app);
      }
    }
  });
  return server;
}
