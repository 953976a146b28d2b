// Pure release logic: what a release contains, its content hash, whether the App's current
// spec needs a new one, and how to summarise what changed.
import { createHash } from "node:crypto";
import type { KubeObject } from "../../kube/resource.ts";
import type { App, Process, Release } from "../../model/kinds.ts";
import { API_VERSION, Annotations, Labels } from "../../model/kinds.ts";
import { canonicalJSON, withOwner } from "../../runtime/status.ts";

export interface ReleaseContent {
  image: string;
  processes: Process[];
  /** Every variable the pods get: plain, private and from service bindings. */
  env: Record<string, string>;
}

/** Where each variable came from, so a rollback can restore plain and private values apart. */
export interface EnvSources {
  publicNames: string[];
  privateNames: string[];
}

export const releaseName = (app: string, version: number) => `${app}-v${version}`;
export const releaseSecretName = (app: string, version: number) => `${app}-v${version}-env`;

/** SHA-256 over the canonical content: equal content, equal hash, whatever the key order. */
export function contentHash(c: ReleaseContent): string {
  return createHash("sha256").update(canonicalJSON(c)).digest("hex");
}

export function latestRelease(releases: readonly Release[]): Release | undefined {
  return releases.reduce<Release | undefined>((a, r) => (!a || r.spec.version > a.spec.version ? r : a), undefined);
}

/** Describes the change from the previous release, e.g. "alice deployed nginx:1.27". */
export function summarize(prev: { image: string; processes: Process[]; env: Record<string, string> } | undefined, next: ReleaseContent, actor: string, rollbackOf?: number): string {
  if (rollbackOf !== undefined) return `${actor} rolled back to v${rollbackOf}`;
  if (!prev) return `${actor} created the app with ${next.image}`;
  const parts: string[] = [];
  if (prev.image !== next.image) parts.push(`deployed ${next.image}`);
  const set = Object.keys(next.env).filter((k) => prev.env[k] !== next.env[k]).sort();
  const unset = Object.keys(prev.env).filter((k) => !(k in next.env)).sort();
  if (set.length) parts.push(`set ${set.join(", ")}`);
  if (unset.length) parts.push(`unset ${unset.join(", ")}`);
  if (canonicalJSON(prev.processes) !== canonicalJSON(next.processes)) parts.push(`changed processes ${next.processes.map((p) => p.name).join(", ")}`);
  return `${actor} ${parts.length ? parts.join("; ") : "changed the app"}`;
}

/** The next Release for app, or undefined when the latest release already has this content. */
export function nextRelease(
  app: App,
  releases: readonly Release[],
  content: ReleaseContent,
  prevEnv: Record<string, string> | undefined,
  sources: EnvSources = { publicNames: [], privateNames: [] },
): Release | undefined {
  const hash = contentHash(content);
  const latest = latestRelease(releases);
  if (latest?.spec.contentHash === hash) return undefined;
  const version = (latest?.spec.version ?? 0) + 1;
  const name = app.metadata.name ?? "";
  const actor = app.metadata.annotations?.[Annotations.actor] ?? "kubectl";
  // Content equal to an earlier release's is a rollback to it, however it was requested.
  const rollbackOf = releases.filter((r) => r.spec.contentHash === hash).sort((a, b) => b.spec.version - a.spec.version)[0]?.spec.version;
  const prev = latest && prevEnv ? { image: latest.spec.image, processes: latest.spec.processes, env: prevEnv } : undefined;
  const summary = summarize(prev, content, actor, rollbackOf);
  return withOwner(
    {
      apiVersion: API_VERSION,
      kind: "Release",
      metadata: {
        name: releaseName(name, version),
        namespace: app.metadata.namespace,
        labels: { [Labels.app]: name, [Labels.managedBy]: "berth" },
      },
      spec: {
        app: name,
        version,
        image: content.image,
        processes: content.processes,
        envSecretName: releaseSecretName(name, version),
        envNames: Object.keys(content.env).sort(),
        publicEnvNames: [...sources.publicNames].sort(),
        privateEnvNames: [...sources.privateNames].sort(),
        contentHash: hash,
        summary,
        author: actor,
        ...(rollbackOf !== undefined ? { rollbackOf } : {}),
      },
    },
    app,
  ) as Release;
}

/** The release's environment: an immutable Secret owned by the Release (pruned with it). */
export function desiredReleaseSecret(release: Release, env: Record<string, string>): KubeObject {
  return withOwner(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: release.spec.envSecretName,
        namespace: release.metadata.namespace,
        labels: { [Labels.app]: release.spec.app, [Labels.release]: `v${release.spec.version}`, [Labels.managedBy]: "berth" },
      },
      type: "Opaque",
      immutable: true,
      data: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
    },
    release,
  );
}

/** Releases beyond the history limit, oldest first; the current release is always kept. */
export function releasesToPrune(releases: readonly Release[], limit: number, currentVersion: number | undefined): Release[] {
  const sorted = [...releases].sort((a, b) => b.spec.version - a.spec.version);
  return sorted.slice(limit).filter((r) => r.spec.version !== currentVersion).reverse();
}
