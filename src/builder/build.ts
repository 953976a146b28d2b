// A source build: the uploaded tar.gz becomes a layer appended to the platform's base image,
// pushed to the registry under the app's repository and tagged with the release version.
import type { PlatformSpec, Process } from "../model/kinds.ts";
import type { Layer } from "./image.ts";
import { BuildError, appLayerEntries, appendConfig, appendManifest, buildLayer, parseProcfile, parseReference } from "./image.ts";
import type { RegistryAuth } from "./registry.ts";
import { RegistryClient } from "./registry.ts";
import { ArchiveError, gunzipLimited, readTar, sha256 } from "./tar.ts";

export interface RegistrySettings {
  /** Where the builder pushes: HOST[:PORT]. */
  host: string;
  /** Repository prefix for apps' images (default berth-apps). */
  prefix: string;
  /** The host nodes pull from, when it differs from host (e.g. a cluster-internal name). */
  pullHost?: string;
  auth?: RegistryAuth;
}

export interface BuildLimits {
  /** Largest upload accepted (compressed). */
  maxUploadBytes: number;
  /** Largest the archive may unpack to. */
  maxUnpackedBytes: number;
}

export const defaultLimits: BuildLimits = { maxUploadBytes: 64 * 2 ** 20, maxUnpackedBytes: 256 * 2 ** 20 };

/** Registry settings from the environment: BERTH_REGISTRY (HOST[:PORT][/PREFIX]), _PULL, _USERNAME, _PASSWORD. */
export function registryFromEnv(env: NodeJS.ProcessEnv = process.env): RegistrySettings | undefined {
  const raw = env.BERTH_REGISTRY?.trim();
  if (!raw) return undefined;
  const [host, ...rest] = raw.replace(/^https?:\/\//, "").split("/");
  const auth = env.BERTH_REGISTRY_USERNAME ? { username: env.BERTH_REGISTRY_USERNAME, password: env.BERTH_REGISTRY_PASSWORD ?? "" } : undefined;
  return { host: host!, prefix: rest.join("/") || "berth-apps", ...(env.BERTH_REGISTRY_PULL ? { pullHost: env.BERTH_REGISTRY_PULL } : {}), ...(auth ? { auth } : {}) };
}

export interface BuildRequest {
  app: string;
  version: number;
  platformName: string;
  platform: PlatformSpec;
  /** The uploaded tar.gz. */
  source: Buffer;
  author: string;
  /** The app's processes now: unit counts and ports carry over to processes of the same name. */
  current: Process[];
}

export interface BuildResult {
  image: string;
  imageDigest: string;
  sourceDigest: string;
  processes: Process[];
}

const DEFAULT_PORT = 8888;

/** The release's processes: the Procfile's, or the platform's default command as "web". */
export function processesFor(procfile: string | undefined, platform: PlatformSpec, platformName: string, current: readonly Process[]): Process[] {
  const declared = procfile !== undefined ? parseProcfile(procfile) : platform.command ? [{ name: "web", command: platform.command }] : undefined;
  if (!declared) throw new BuildError(`the source has no Procfile and platform ${platformName} has no default command: add a Procfile ("web: <command>")`);
  return declared.map(({ name, command }) => {
    const now = current.find((p) => p.name === name);
    const replicas = now && (now.replicas ?? 1) > 0 ? now.replicas : 1;
    const ports = now?.ports ?? (name === "web" ? [{ port: DEFAULT_PORT }] : undefined);
    return { ...now, name, command: ["/bin/sh", "-c", command], replicas, ...(ports ? { ports } : {}) };
  });
}

/** Builds and pushes the image; say() gets the build log line by line. */
export async function build(req: BuildRequest, registry: RegistrySettings, say: (line: string) => void, limits: BuildLimits = defaultLimits): Promise<BuildResult> {
  const t0 = Date.now();
  if (req.source.length > limits.maxUploadBytes) throw new ArchiveError(`the archive is ${(req.source.length / 2 ** 20).toFixed(1)} MiB: the limit is ${Math.round(limits.maxUploadBytes / 2 ** 20)} MiB`);
  const sourceDigest = sha256(req.source);
  say(`---> Source: ${(req.source.length / 1024).toFixed(1)} KiB (${sourceDigest.slice(0, 19)})`);
  const files = readTar(gunzipLimited(req.source, limits.maxUnpackedBytes));
  if (!files.some((f) => f.type === "file")) throw new ArchiveError("the archive holds no files");
  const procfile = files.find((f) => f.path === "Procfile" && f.type === "file");
  const processes = processesFor(procfile?.data.toString("utf8"), req.platform, req.platformName, req.current);
  say(`---> Processes: ${processes.map((p) => `${p.name} (${p.command?.at(-1) ?? ""})`).join(", ")}`);

  const workdir = req.platform.workdir ?? "/app";
  const layer: Layer = buildLayer(appLayerEntries(files, workdir));
  say(`---> App layer: ${files.length} entries, ${(layer.blob.length / 1024).toFixed(1)} KiB (${layer.digest.slice(0, 19)})`);

  const base = parseReference(req.platform.image);
  const target = new RegistryClient(registry.host, registry.auth);
  const sameRegistry = base.registry === registry.host || base.registry === registry.pullHost;
  const source = sameRegistry ? target : new RegistryClient(base.registry);
  say(`---> Base image: ${req.platform.image}`);
  const { manifest: baseManifest } = await source.manifest(base.repository, base.reference);
  const baseConfig = await source.config(base.repository, baseManifest);

  const repo = `${registry.prefix}/${req.app}`;
  for (const l of baseManifest.layers) {
    if (sameRegistry) await target.mountBlob(repo, base.repository, l.digest);
    else await target.putBlob(repo, await source.blob(base.repository, l.digest), l.digest);
  }
  await target.putBlob(repo, layer.blob, layer.digest);
  const env = Object.fromEntries((req.platform.env ?? []).map((e) => [e.name, e.value ?? ""]));
  const web = processes.find((p) => p.name === "web") ?? processes[0]!;
  const config = appendConfig(baseConfig, layer, {
    workdir,
    env,
    ...(web.command ? { cmd: web.command } : {}),
    created: new Date().toISOString(),
    comment: `${req.author} deployed ${sourceDigest} on platform ${req.platformName}`,
  });
  const configBlob = Buffer.from(JSON.stringify(config));
  await target.putBlob(repo, configBlob);
  const manifest = appendManifest(baseManifest, configBlob, layer, { "dev.berth.platform": req.platformName, "dev.berth.source": sourceDigest });
  const tag = `v${req.version}`;
  const imageDigest = await target.putManifest(repo, tag, manifest);
  const image = `${registry.pullHost ?? registry.host}/${repo}@${imageDigest}`;
  say(`---> Pushed ${registry.host}/${repo}:${tag} (${imageDigest.slice(0, 19)}) in ${((Date.now() - t0) / 1000).toFixed(2)}s`);
  return { image, imageDigest, sourceDigest, processes };
}
