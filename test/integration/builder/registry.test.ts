// The builder against a real registry (Debian's docker-registry): base image in, app image out.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { build } from "../../../src/builder/build.ts";
import type { RegistrySettings } from "../../../src/builder/build.ts";
import { MediaTypes } from "../../../src/builder/image.ts";
import { RegistryClient, RegistryError } from "../../../src/builder/registry.ts";
import { readTar, sha256 } from "../../../src/builder/tar.ts";
import type { TestRegistry } from "../support/registry.ts";
import { freePort, hasRegistryBinary, pushBaseImage, startRegistry } from "../support/registry.ts";

const source = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), "berth-src-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return execFileSync("tar", ["-C", dir, "-czf", "-", "."]);
};

describe("builder: registry (docker-registry)", function () {
  this.timeout(60_000);
  let reg: TestRegistry;
  let settings: RegistrySettings;

  before(async function () {
    if (!hasRegistryBinary()) {
      process.stdout.write("    skipped: docker-registry is not installed (apt-get install docker-registry)\n");
      this.skip();
    }
    reg = await startRegistry();
    settings = { host: reg.host, prefix: "apps" };
  });
  after(async () => reg?.stop());

  for (const mediaType of [MediaTypes.ociManifest, MediaTypes.dockerManifest]) {
    it(`appends the app layer to a base image (${mediaType.split(".").at(-1)}) and tags it per version`, async () => {
      const base = await pushBaseImage(reg.host, "base/py", "1", mediaType);
      const lines: string[] = [];
      const t0 = Date.now();
      const src = source({ "app.py": "print('hello')\n", Procfile: "web: python3 app.py\nworker: python3 w.py\n" });
      const out = await build({ app: "hello", version: 3, platformName: "python", platform: { image: base, env: [{ name: "LANG", value: "C.UTF-8" }] }, source: src, author: "alice@example.com", current: [] }, settings, (l) => lines.push(l));
      const ms = Date.now() - t0;
      expect(out.sourceDigest).to.equal(sha256(src));
      expect(out.image).to.equal(`${reg.host}/apps/hello@${out.imageDigest}`);
      expect(out.processes.map((p) => p.name)).to.deep.equal(["web", "worker"]);
      expect(lines.join("\n")).to.include("Pushed").and.to.include(":v3");

      const c = new RegistryClient(reg.host);
      const byTag = await c.manifest("apps/hello", "v3");
      expect(byTag.digest).to.equal(out.imageDigest);
      expect(byTag.manifest.mediaType).to.equal(mediaType);
      const baseM = await c.manifest("base/py", "1");
      expect(byTag.manifest.layers.slice(0, -1)).to.deep.equal(baseM.manifest.layers);
      const cfg = await c.config("apps/hello", byTag.manifest);
      expect(cfg.config).to.deep.include({ WorkingDir: "/app", Cmd: ["/bin/sh", "-c", "python3 app.py"], Entrypoint: null });
      expect(cfg.config?.Env).to.include("LANG=C.UTF-8");
      const top = byTag.manifest.layers.at(-1)!;
      const tar = gunzipSync(await c.blob("apps/hello", top.digest));
      expect(cfg.rootfs.diff_ids.at(-1)).to.equal(sha256(tar));
      const files = new Map(readTar(tar).map((e) => [e.path, e]));
      expect(files.get("app/app.py")?.data.toString()).to.equal("print('hello')\n");
      expect(files.get("app/Procfile")?.type).to.equal("file");
      process.stdout.write(`    build of a small app: ${ms} ms\n`);
    });
  }

  it("copies base layers from another registry", async () => {
    const other = await startRegistry();
    try {
      const base = await pushBaseImage(other.host, "base/node", "20");
      const out = await build({ app: "n", version: 1, platformName: "node", platform: { image: base, command: "node server.js" }, source: source({ "server.js": "1" }), author: "a", current: [] }, settings, () => undefined);
      const m = await new RegistryClient(reg.host).manifest("apps/n", "v1");
      expect(m.digest).to.equal(out.imageDigest);
      expect(await new RegistryClient(reg.host).hasBlob("apps/n", m.manifest.layers[0]!.digest)).to.equal(true);
    } finally {
      await other.stop();
    }
  });

  it("fails clearly: unknown base image, registry down, no Procfile and no command", async () => {
    const req = { app: "x", version: 1, platformName: "p", source: source({ "a.txt": "a" }), author: "a", current: [] };
    const failure = async (p: Promise<unknown>) => p.then(() => new Error("no error"), (e: Error) => e);
    let err = await failure(build({ ...req, platform: { image: `${reg.host}/base/none:1`, command: "x" } }, settings, () => undefined));
    expect(err).to.be.instanceOf(RegistryError).and.have.property("message").that.matches(/is not in the registry/);
    const down = `127.0.0.1:${await freePort()}`;
    err = await failure(build({ ...req, platform: { image: `${down}/base/py:1`, command: "x" } }, { host: down, prefix: "apps" }, () => undefined));
    expect(err).to.be.instanceOf(RegistryError).and.have.property("message").that.matches(/unreachable: ECONNREFUSED/);
    const base = await pushBaseImage(reg.host, "base/bare", "1");
    err = await failure(build({ ...req, platform: { image: base } }, settings, () => undefined));
    expect(err.message).to.match(/no Procfile and platform p has no default command/);
  });
});
