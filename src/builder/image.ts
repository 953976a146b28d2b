// Pure parts of a build: the Procfile, the app layer from the uploaded files, and the new
// image config and manifest that append that layer to a platform's base image.
import type { TarEntry } from "./tar.ts";
import { ArchiveError, gzip, sha256, writeTar } from "./tar.ts";

export const MediaTypes = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture?: string; os?: string };
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  created?: string;
  config?: { Env?: string[]; Cmd?: string[] | null; Entrypoint?: string[] | null; WorkingDir?: string; [k: string]: unknown };
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
  [k: string]: unknown;
}

export class BuildError extends Error {}

/** Procfile: "name: command" lines; blank lines and # comments ignored. Throws on a bad line. */
export function parseProcfile(text: string): { name: string; command: string }[] {
  const out: { name: string; command: string }[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^([A-Za-z0-9][A-Za-z0-9_-]*)\s*:\s*(.+)$/.exec(line);
    if (!m) throw new BuildError(`Procfile line ${i + 1} is not "name: command": ${line}`);
    const name = m[1]!.toLowerCase().replace(/_/g, "-");
    if (name.length > 30) throw new BuildError(`Procfile process name too long: ${m[1]}`);
    if (out.some((p) => p.name === name)) throw new BuildError(`Procfile names process ${name} twice`);
    out.push({ name, command: m[2]!.trim() });
  }
  if (!out.length) throw new BuildError("the Procfile names no process");
  return out;
}

/** The app's files, as uploaded, moved under dir (e.g. "app" for /app) with their parents. */
export function appLayerEntries(source: readonly TarEntry[], dir: string): TarEntry[] {
  const root = dir.replace(/^\/+|\/+$/g, "");
  const out = new Map<string, TarEntry>();
  const addDir = (p: string) => {
    const parts = p.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!out.has(d)) out.set(d, { path: d, type: "dir", mode: 0o755, data: Buffer.alloc(0) });
    }
  };
  if (root) addDir(root);
  for (const e of source) {
    const path = root ? `${root}/${e.path}` : e.path;
    const parent = path.split("/").slice(0, -1).join("/");
    if (parent) addDir(parent);
    // A hard link points inside the archive: move its target with it.
    const linkname = e.type === "link" && e.linkname ? (root ? `${root}/${e.linkname}` : e.linkname) : e.linkname;
    if (e.type === "link" && !source.some((x) => x.path === e.linkname)) throw new ArchiveError(`hard link ${e.path} points outside the archive`);
    out.set(path, { ...e, path, mode: e.type === "dir" ? e.mode || 0o755 : e.mode || 0o644, ...(linkname !== undefined ? { linkname } : {}) });
  }
  return [...out.values()];
}

export interface Layer {
  /** The gzipped tar: the blob. */
  blob: Buffer;
  digest: string;
  /** Of the uncompressed tar: the config's diff_id. */
  diffId: string;
}

export function buildLayer(entries: readonly TarEntry[]): Layer {
  const tar = writeTar(entries);
  const blob = gzip(tar);
  return { blob, digest: sha256(blob), diffId: sha256(tar) };
}

export interface AppendOptions {
  workdir: string;
  env: Record<string, string>;
  cmd?: string[];
  created: string;
  comment: string;
}

/** The base config with the layer appended, the working directory, env and command set. */
export function appendConfig(base: ImageConfig, layer: Layer, o: AppendOptions): ImageConfig {
  const env = [...(base.config?.Env ?? [])].filter((kv) => !(kv.split("=")[0]! in o.env));
  for (const [k, v] of Object.entries(o.env)) env.push(`${k}=${v}`);
  return {
    ...base,
    created: o.created,
    config: { ...base.config, Env: env, WorkingDir: o.workdir, ...(o.cmd ? { Cmd: o.cmd, Entrypoint: null } : {}) },
    rootfs: { type: "layers", diff_ids: [...(base.rootfs?.diff_ids ?? []), layer.diffId] },
    history: [...(base.history ?? []), { created: o.created, created_by: "berth build", comment: o.comment }],
  };
}

/** The new manifest: the base's layers, then the app's, in the base manifest's own media types. */
export function appendManifest(base: Manifest, config: Buffer, layer: Layer, annotations: Record<string, string> = {}): Manifest {
  const docker = base.mediaType === MediaTypes.dockerManifest;
  return {
    schemaVersion: 2,
    mediaType: docker ? MediaTypes.dockerManifest : MediaTypes.ociManifest,
    config: { mediaType: docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig, digest: sha256(config), size: config.length },
    layers: [...base.layers, { mediaType: docker ? MediaTypes.dockerLayer : MediaTypes.ociLayer, digest: layer.digest, size: layer.blob.length }],
    ...(!docker && Object.keys(annotations).length ? { annotations } : {}),
  };
}

/** "host:port/repo/name:tag" or "...@sha256:..." split into its registry, repository and reference. */
export function parseReference(ref: string): { registry: string; repository: string; reference: string } {
  const at = ref.indexOf("@");
  let rest = at >= 0 ? ref.slice(0, at) : ref;
  let reference = at >= 0 ? ref.slice(at + 1) : "latest";
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  if (!first || !/[.:]/.test(first) && first !== "localhost") throw new BuildError(`image ${ref} names no registry host (expected HOST[:PORT]/NAME[:TAG])`);
  rest = rest.slice(slash + 1);
  const colon = rest.lastIndexOf(":");
  if (at < 0 && colon > rest.lastIndexOf("/")) {
    reference = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { registry: first, repository: rest, reference };
}
