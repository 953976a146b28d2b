// A push to an app, from the pushed tree to a serving release: the same source deploy as tsuru's
// (src/api/apps/source.ts: platform, build onto its base image, Build record, new image and
// processes), then the release and its rollout, told the way Deis' builder told them.
import type { App } from "../model/kinds.ts";
import type { SourceDeps } from "../api/apps/source.ts";
import { buildLimits, deploySource, detectPlatform, platforms } from "../api/apps/source.ts";
import { rolledOut } from "../api/apps/store.ts";
import { indent, step } from "./output.ts";
import type { PushedTree } from "./receive.ts";
import type { RefUpdate } from "./refs.ts";

export interface PushDeploy {
  app: App;
  /** Who pushed (the Deis username). */
  author: string;
  update: RefUpdate;
  tree: PushedTree;
  /** Apps answer through the router on <app>.<appsDomain>. */
  appsDomain: string;
  /** How long the new release may take to have its units ready. */
  rolloutTimeoutMs: number;
  say: (line: string) => void;
}

export const DOCKERFILE_REFUSED =
  "this push has a Dockerfile: Berth builds without Docker, so Dockerfile builds are not supported. Remove the Dockerfile and declare the processes in a Procfile (web: <command>); the app's platform provides the runtime.";

/** Builds, releases and waits for the rollout; throws with the reason when any of it fails. */
export async function deployPush(deps: SourceDeps, o: PushDeploy): Promise<{ version: number }> {
  const { apps } = deps;
  const name = o.app.metadata.name ?? "";
  if (await o.tree.has("Dockerfile")) throw new Error(DOCKERFILE_REFUSED);
  let platform: string | undefined;
  if (!o.app.spec.platform) {
    const enabled = platforms(deps).filter((p) => !p.spec.disabled).map((p) => p.metadata.name ?? "");
    const found = enabled.length > 1 ? detectPlatform(await o.tree.rootNames(), enabled) : undefined;
    if (found) o.say(step(`${found.label} app detected`));
    platform = found?.platform;
  }
  const source = await o.tree.archive(buildLimits().maxUnpackedBytes);
  o.say(step(`Building ${name} from ${o.update.ref.replace(/^refs\/heads\//, "")} ${o.update.newRev.slice(0, 8)}`));
  const updated = await deploySource(deps, { app: o.app, version: apps.nextVersion(o.app), source, author: o.author, ...(platform ? { platform } : {}), say: (l) => o.say(indent(l)) });
  o.say(step("Launching..."));
  const { version } = await apps.observed(updated);
  let last = "";
  const done = await apps.waitFor(updated, (a) => rolledOut(a, version), o.rolloutTimeoutMs, (a) => {
    const line = a?.status?.readySummary ? `${a.status.currentRelease ?? `v${version}`}: ${a.status.readySummary} units ready` : "";
    if (line && line !== last) o.say(indent((last = line)));
  });
  if (!rolledOut(done, version)) {
    const why = done?.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "no status yet";
    throw new Error(`release v${version} was made but its units did not become ready within ${Math.round(o.rolloutTimeoutMs / 1000)} s: ${why}\nthe previous release keeps serving; deis releases:rollback -a ${name} goes back to it for good`);
  }
  o.say(indent(`done, ${name}:v${version} deployed to Deis`));
  o.say(indent(""));
  for (const url of [`http://${name}.${o.appsDomain}`, ...(done?.spec.domains ?? []).map((d) => `${done?.spec.tls ? "https" : "http"}://${d}`)]) o.say(indent(url));
  o.say(indent(""));
  o.say(indent("To learn more, use `deis help`"));
  return { version };
}
