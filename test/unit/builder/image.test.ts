// The builder's pure parts: tar reading and writing, the app layer, Procfile, config and manifest.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { processesFor, registryFromEnv } from "../../../src/builder/build.ts";
import { BuildError, MediaTypes, appLayerEntries, appendConfig, appendManifest, buildLayer, parseProcfile, parseReference } from "../../../src/builder/image.ts";
import type { ImageConfig, Manifest } from "../../../src/builder/image.ts";
import { ArchiveError, cleanPath, gunzipLimited, readTar, sha256, writeTar } from "../../../src/builder/tar.ts";

const tarOf = (dir: string) => execFileSync("tar", ["-C", dir, "-czf", "-", "."], { maxBuffer: 1 << 26 });

describe("builder: tar", () => {
  it("reads what GNU tar writes (directories, files, modes, symlinks, long names)", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-tar-"));
    mkdirSync(join(dir, "static"));
    writeFileSync(join(dir, "app.py"), "print('hi')\n");
    writeFileSync(join(dir, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    const long = `${"d".repeat(90)}/${"f".repeat(80)}.txt`;
    mkdirSync(join(dir, "d".repeat(90)));
    writeFileSync(join(dir, long), "long");
    symlinkSync("app.py", join(dir, "link.py"));
    const entries = readTar(gunzipLimited(tarOf(dir), 1 << 20));
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get("app.py")?.data.toString()).to.equal("print('hi')\n");
    expect(byPath.get("run.sh")?.mode).to.equal(0o755);
    expect(byPath.get("static")?.type).to.equal("dir");
    expect(byPath.get(long)?.data.toString()).to.equal("long");
    expect(byPath.get("link.py")).to.include({ type: "symlink", linkname: "app.py" });
  });

  it("writes archives GNU tar reads back, reproducibly", () => {
    const long = `${"x".repeat(120)}/file`;
    const entries = [
      { path: "b.txt", type: "file" as const, mode: 0o644, data: Buffer.from("bee") },
      { path: "a", type: "dir" as const, mode: 0o755, data: Buffer.alloc(0) },
      { path: long, type: "file" as const, mode: 0o600, data: Buffer.from("deep") },
    ];
    const tar = writeTar(entries);
    expect(sha256(writeTar([...entries].reverse()))).to.equal(sha256(tar));
    const dir = mkdtempSync(join(tmpdir(), "berth-tar-"));
    writeFileSync(join(dir, "t.tar"), tar);
    const listing = execFileSync("tar", ["-tvf", join(dir, "t.tar")]).toString();
    expect(listing).to.match(/root\/root .* a\/\n/).and.to.include("b.txt").and.to.include(long);
    execFileSync("tar", ["-C", dir, "-xf", join(dir, "t.tar")]);
    expect(readFileSync(join(dir, long), "utf8")).to.equal("deep");
    expect(readTar(tar).map((e) => e.path)).to.deep.equal(["a", "b.txt", long]);
  });

  it("refuses paths leaving the root, garbage, and archives unpacking past the limit", () => {
    expect(cleanPath("./a/./b")).to.equal("a/b");
    expect(cleanPath("a/../../etc")).to.equal(undefined);
    const bad = writeTar([{ path: "ok", type: "file", mode: 0o644, data: Buffer.from("x") }]);
    bad.write("../../etc/passwd\0", 0, "utf8");
    expect(() => readTar(bad)).to.throw(ArchiveError, /checksum/);
    expect(() => gunzipLimited(Buffer.from("not gzip"), 100)).to.throw(ArchiveError, /not a gzip/);
    const big = buildLayer([{ path: "zeros", type: "file", mode: 0o644, data: Buffer.alloc(1 << 20) }]).blob;
    expect(() => gunzipLimited(big, 1 << 19)).to.throw(ArchiveError, /more than/);
  });
});

describe("builder: image", () => {
  it("parses Procfiles", () => {
    expect(parseProcfile("# comment\nweb: python3 app.py --port $PORT\n\nworker_1:  node w.js\n")).to.deep.equal([
      { name: "web", command: "python3 app.py --port $PORT" },
      { name: "worker-1", command: "node w.js" },
    ]);
    expect(() => parseProcfile("web python3\n")).to.throw(BuildError, /line 1/);
    expect(() => parseProcfile("# nothing\n")).to.throw(BuildError, /no process/);
    expect(() => parseProcfile("web: a\nweb: b\n")).to.throw(BuildError, /twice/);
  });

  it("derives processes from the Procfile or the platform's command, keeping unit counts and ports", () => {
    const current = [{ name: "web", replicas: 3, ports: [{ port: 8080 }] }];
    expect(processesFor("web: ./serve\nworker: ./work\n", { image: "r:5000/x" }, "x", current)).to.deep.equal([
      { name: "web", command: ["/bin/sh", "-c", "./serve"], replicas: 3, ports: [{ port: 8080 }] },
      { name: "worker", command: ["/bin/sh", "-c", "./work"], replicas: 1 },
    ]);
    expect(processesFor(undefined, { image: "r:5000/x", command: "python3 app.py" }, "py", [{ name: "web", replicas: 0 }])[0]).to.deep.include({ replicas: 1, ports: [{ port: 8888 }] });
    expect(() => processesFor(undefined, { image: "r:5000/x" }, "bare", [])).to.throw(BuildError, /no Procfile and platform bare has no default command/);
  });

  it("puts the app's files under the working directory with their parents", () => {
    const out = appLayerEntries([{ path: "src/main.py", type: "file", mode: 0, data: Buffer.from("x") }], "/srv/app");
    expect(out.map((e) => `${e.type}:${e.path}:${e.mode.toString(8)}`)).to.deep.equal(["dir:srv:755", "dir:srv/app:755", "dir:srv/app/src:755", "file:srv/app/src/main.py:644"]);
    expect(() => appLayerEntries([{ path: "l", type: "link", mode: 0o644, data: Buffer.alloc(0), linkname: "elsewhere" }], "app")).to.throw(ArchiveError);
  });

  it("appends a layer to the config and manifest, digests over the exact bytes", () => {
    const layer = buildLayer([{ path: "app/x", type: "file", mode: 0o644, data: Buffer.from("hello") }]);
    expect(layer.digest).to.equal(sha256(layer.blob));
    expect(layer.diffId).to.equal(sha256(gunzipSync(layer.blob)));
    const base: ImageConfig = { architecture: "amd64", os: "linux", config: { Env: ["PATH=/bin", "PORT=1"], Cmd: ["sh"] }, rootfs: { type: "layers", diff_ids: ["sha256:aa"] }, history: [{ created_by: "base" }] };
    const cfg = appendConfig(base, layer, { workdir: "/app", env: { PORT: "8888", LANG: "C.UTF-8" }, cmd: ["/bin/sh", "-c", "run"], created: "2026-01-01T00:00:00Z", comment: "c" });
    expect(cfg.rootfs.diff_ids).to.deep.equal(["sha256:aa", layer.diffId]);
    expect(cfg.config).to.deep.include({ Env: ["PATH=/bin", "PORT=8888", "LANG=C.UTF-8"], WorkingDir: "/app", Cmd: ["/bin/sh", "-c", "run"], Entrypoint: null });
    expect(cfg.history).to.have.length(2);
    const oci: Manifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: { mediaType: MediaTypes.ociConfig, digest: "sha256:c", size: 1 }, layers: [{ mediaType: MediaTypes.ociLayer, digest: "sha256:l", size: 2 }] };
    const blob = Buffer.from(JSON.stringify(cfg));
    const m = appendManifest(oci, blob, layer, { a: "b" });
    expect(m.config).to.deep.equal({ mediaType: MediaTypes.ociConfig, digest: sha256(blob), size: blob.length });
    expect(m.layers.at(-1)).to.deep.equal({ mediaType: MediaTypes.ociLayer, digest: layer.digest, size: layer.blob.length });
    expect(m.annotations).to.deep.equal({ a: "b" });
    const docker = appendManifest({ ...oci, mediaType: MediaTypes.dockerManifest }, blob, layer);
    expect(docker.mediaType).to.equal(MediaTypes.dockerManifest);
    expect(docker.layers.at(-1)?.mediaType).to.equal(MediaTypes.dockerLayer);
    expect(docker).to.not.have.property("annotations");
  });

  it("parses image references and registry settings", () => {
    expect(parseReference("10.245.1.1:5000/berth/python:3.11")).to.deep.equal({ registry: "10.245.1.1:5000", repository: "berth/python", reference: "3.11" });
    expect(parseReference("localhost/a/b@sha256:00")).to.deep.equal({ registry: "localhost", repository: "a/b", reference: "sha256:00" });
    expect(parseReference("reg.example.com/x")).to.deep.include({ reference: "latest" });
    expect(() => parseReference("python:3.11")).to.throw(BuildError, /registry host/);
    expect(registryFromEnv({ BERTH_REGISTRY: "127.0.0.1:5000/apps", BERTH_REGISTRY_USERNAME: "u", BERTH_REGISTRY_PASSWORD: "p" })).to.deep.equal({ host: "127.0.0.1:5000", prefix: "apps", auth: { username: "u", password: "p" } });
    expect(registryFromEnv({})).to.equal(undefined);
  });
});
