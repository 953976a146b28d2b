// A throwaway OCI registry for tests: Debian's docker-registry on 127.0.0.1 and a free port,
// storage in a temporary directory; and a tiny base image pushed to it with the builder's code.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MediaTypes, buildLayer } from "../../../src/builder/image.ts";
import type { Manifest } from "../../../src/builder/image.ts";
import { RegistryClient } from "../../../src/builder/registry.ts";
import { sha256 } from "../../../src/builder/tar.ts";

export interface TestRegistry {
  host: string;
  stop(): Promise<void>;
}

export const hasRegistryBinary = (): boolean => {
  try {
    execFileSync("sh", ["-c", "command -v docker-registry"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startRegistry(): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "berth-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  writeFileSync(join(dir, "config.yml"), `version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: ${dir}/data}\n  delete: {enabled: true}\nhttp: {addr: "${host}"}\n`);
  const proc: ChildProcess = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: "ignore" });
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 100 || proc.exitCode !== null) throw new Error(`docker-registry did not start on ${host}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    stop: async () => {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r(undefined) : proc.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pushes a one-layer base image (a file /etc/base-release) as repo:tag; returns its reference. */
export async function pushBaseImage(host: string, repo: string, tag: string, mediaType: string = MediaTypes.ociManifest): Promise<string> {
  const c = new RegistryClient(host);
  const layer = buildLayer([
    { path: "etc", type: "dir", mode: 0o755, data: Buffer.alloc(0) },
    { path: "etc/base-release", type: "file", mode: 0o644, data: Buffer.from(`${repo}:${tag}\n`) },
  ]);
  await c.putBlob(repo, layer.blob);
  const docker = mediaType === MediaTypes.dockerManifest;
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Env: ["PATH=/bin"], Entrypoint: ["/bin/base"] }, rootfs: { type: "layers", diff_ids: [layer.diffId] }, history: [{ created_by: "test base" }] }));
  await c.putBlob(repo, config);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig, digest: sha256(config), size: config.length },
    layers: [{ mediaType: docker ? MediaTypes.dockerLayer : MediaTypes.ociLayer, digest: layer.digest, size: layer.blob.length }],
  };
  await c.putManifest(repo, tag, manifest);
  return `${host}/${repo}:${tag}`;
}
