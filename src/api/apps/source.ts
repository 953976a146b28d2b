// Source deploys for every dialect: pick the platform, build the image (src/builder/), record
// the Build, and point the App at the new image and processes (the controller makes the Release).
import type { App, Build, Platform } from "../../model/kinds.ts";
import { API_VERSION, BerthTypes, Labels } from "../../model/kinds.ts";
import { build, defaultLimits, registryFromEnv } from "../../builder/build.ts";
import type { BuildLimits } from "../../builder/build.ts";
import { sha256 } from "../../builder/tar.ts";
import { withOwner } from "../../runtime/status.ts";
import type { ApiDeps } from "../deps.ts";

/** What a source deploy needs: the API's dependencies, or the git endpoint's own (src/git/). */
export type SourceDeps = Pick<ApiDeps, "client" | "informers" | "log" | "apps">;

export const NO_REGISTRY =
  "Source deploys are not available here: this Berth has no registry to build into (an administrator sets BERTH_REGISTRY, or registry.host in the Helm chart; see docs/builder.md). Build and push an image, then deploy it with tsuru app deploy -a <app> -i <image>.";

export function platforms(deps: SourceDeps): Platform[] {
  return deps.informers.informerFor<Platform>(BerthTypes.Platform).store.list();
}

export function platform(deps: SourceDeps, name: string): Platform | undefined {
  return deps.informers.informerFor<Platform>(BerthTypes.Platform).store.get(name);
}

/** Build limits from BERTH_BUILD_MAX_UPLOAD_MB and BERTH_BUILD_MAX_UNPACKED_MB. */
export function buildLimits(env: NodeJS.ProcessEnv = process.env): BuildLimits {
  const mb = (v: string | undefined, d: number) => (v && Number(v) > 0 ? Number(v) * 2 ** 20 : d);
  return { maxUploadBytes: mb(env.BERTH_BUILD_MAX_UPLOAD_MB, defaultLimits.maxUploadBytes), maxUnpackedBytes: mb(env.BERTH_BUILD_MAX_UNPACKED_MB, defaultLimits.maxUnpackedBytes) };
}

/** The platform a deploy builds on: the one named, the app's, or the only enabled one. */
export function choosePlatform(deps: SourceDeps, app: App, named?: string): Platform {
  const name = named || app.spec.platform;
  if (name) {
    const p = platform(deps, name);
    if (!p) throw new Error(`platform "${name}" not found (tsuru platform list shows the platforms)`);
    if (p.spec.disabled) throw new Error(`platform "${name}" is disabled`);
    return p;
  }
  const enabled = platforms(deps).filter((p) => !p.spec.disabled);
  if (enabled.length === 1) return enabled[0]!;
  throw new Error(enabled.length ? `app ${app.metadata.name} has no platform: choose one of ${enabled.map((p) => p.metadata.name).join(", ")} (tsuru app update -a ${app.metadata.name} -l PLATFORM)` : "there are no platforms: an administrator adds them (tsuru platform add, or kubectl apply -f examples/40-platforms.yaml)");
}

/** Files at a source's root that say which runtime it needs (as buildpacks' detect scripts did), by platform name. */
const DETECT: [platform: string, label: string, test: (name: string) => boolean][] = [
  ["python", "Python", (n) => ["requirements.txt", "setup.py", "Pipfile", "pyproject.toml"].includes(n) || n.endsWith(".py")],
  ["node", "Node.js", (n) => n === "package.json" || n.endsWith(".js")],
  ["static", "Static HTML", (n) => n === "index.html"],
];

/**
 * The platform a source seems to need, for an app that has none: the first of python, node,
 * static whose files are at the source's root and that is an enabled Platform here.
 */
export function detectPlatform(rootNames: readonly string[], enabled: readonly string[]): { platform: string; label: string } | undefined {
  for (const [platform, label, test] of DETECT) if (enabled.includes(platform) && rootNames.some(test)) return { platform, label };
  return undefined;
}

/** Whether image was made by the builder (an app repository under the registry prefix). */
export function isBuiltImage(appName: string, image: string): boolean {
  const r = registryFromEnv();
  return !!r && image.includes(`/${r.prefix}/${appName}@sha256:`);
}

export interface SourceDeploy {
  app: App;
  version: number;
  source: Buffer;
  author: string;
  platform?: string;
  say: (line: string) => void;
}

/** Builds and records; returns the App as patched to run the new image. Failures are recorded and rethrown. */
export async function deploySource(deps: SourceDeps, o: SourceDeploy): Promise<App> {
  const started = new Date();
  const log: string[] = [];
  const say = (l: string) => {
    log.push(l);
    o.say(l);
  };
  const name = o.app.metadata.name ?? "";
  const record = async (spec: Partial<Build["spec"]> & Pick<Build["spec"], "phase" | "platform">) => {
    const b = withOwner<Build>(
      {
        apiVersion: API_VERSION,
        kind: "Build",
        metadata: { name: `${name}-v${o.version}-${started.getTime().toString(36)}`, namespace: o.app.metadata.namespace, labels: { [Labels.app]: name, [Labels.managedBy]: "berth" } },
        spec: { app: name, version: o.version, sourceDigest: sha256(o.source), author: o.author, startedAt: started.toISOString(), durationMs: Date.now() - started.getTime(), log: log.join("\n").slice(-60_000), ...spec },
      },
      o.app,
    );
    await deps.client.create(BerthTypes.Build, b).catch((e: Error) => deps.log.warn("could not record the build", { app: name, error: e.message }));
  };
  let platformName = o.platform || o.app.spec.platform || "";
  try {
    const registry = registryFromEnv();
    if (!registry) throw new Error(NO_REGISTRY);
    const p = choosePlatform(deps, o.app, o.platform);
    platformName = p.metadata.name ?? "";
    say(`---- Building ${name} v${o.version} on platform ${platformName} ----`);
    const out = await build({ app: name, version: o.version, platformName, platform: p.spec, source: o.source, author: o.author, current: o.app.spec.processes }, registry, say, buildLimits());
    await record({ phase: "Succeeded", platform: platformName, image: out.image, imageDigest: out.imageDigest });
    return await deps.apps.patch(o.app, { image: out.image, processes: out.processes, platform: platformName }, o.author);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await record({ phase: "Failed", platform: platformName || "none", message: `build failed: ${message}`.slice(0, 4000) });
    throw new Error(`build failed: ${message}`);
  }
}
