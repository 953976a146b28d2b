// Source deploys through the tsuru dialect, as `tsuru app deploy <dir>` sends them (multipart
// "file" with a tar.gz), built into a throwaway docker-registry and released on KWOK nodes;
// platforms added, listed and removed through the API. Serving is checked on the real node
// (test/integration/builder/real-node.test.ts).
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { App, Build, Release, User } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import { userObjectName } from "../../../src/api/identity/store.ts";
import { RegistryClient } from "../../../src/builder/registry.ts";
import type { RunningBerth } from "../support/berth.ts";
import { startBerth } from "../support/berth.ts";
import type { Res } from "../support/http.ts";
import { call } from "../support/http.ts";
import { eventually, kubectl } from "../support/kube.ts";
import type { TestRegistry } from "../support/registry.ts";
import { hasRegistryBinary, pushBaseImage, startRegistry } from "../support/registry.ts";

/** A tar.gz of the files, as the tsuru CLI makes of a directory. */
export const sourceArchive = (files: Record<string, string>): Buffer => {
  const dir = mkdtempSync(join(tmpdir(), "berth-src-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return execFileSync("tar", ["-C", dir, "-czf", "-", "."], { maxBuffer: 1 << 26 });
};

/** A multipart/form-data POST with one file part (and text fields), as the tsuru CLI sends. */
export async function multipart(url: string, token: string, file: { field: string; filename: string; data: Buffer }, fields: Record<string, string> = {}): Promise<Res> {
  const boundary = `----berth${randomBytes(8).toString("hex")}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`), file.data, Buffer.from(`\r\n--${boundary}--\r\n`));
  const r = await fetch(url, { method: "POST", headers: { Authorization: `bearer ${token}`, "Content-Type": `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat(parts) });
  const text = await r.text();
  return { status: r.status, text, headers: r.headers, json: <T>() => JSON.parse(text) as T };
}

describe("builder: tsuru source deploys (KWOK)", function () {
  this.timeout(180_000);
  let berth: RunningBerth;
  let reg: TestRegistry;
  const id = randomBytes(3).toString("hex");
  const [team, pool, app, platformName] = [`bt-${id}`, `bp-${id}`, `src-${id}`, `py-${id}`];
  let admin = "";
  let member = "";
  let firstSource = 0;
  const savedRegistry = process.env.BERTH_REGISTRY;
  const tsuru = (method: string, path: string, token: string, form?: Record<string, string>) => call(berth.apiURL, method, `/1.0${path}`, { token, ...(form ? { form } : {}) });
  const deploy = (token: string, files: Record<string, string>) => multipart(`${berth.apiURL}/1.0/apps/${app}/deploy`, token, { field: "file", filename: "archive.tar.gz", data: sourceArchive(files) }, { message: "" });
  const releases = async () => ((await berth.client.list<Release>(BerthTypes.Release, undefined)).items ?? []).filter((r) => r.spec.app === app).sort((a, b) => a.spec.version - b.spec.version);

  before(async function () {
    if (!hasRegistryBinary()) {
      process.stdout.write("    skipped: docker-registry is not installed (apt-get install docker-registry)\n");
      this.skip();
    }
    reg = await startRegistry();
    process.env.BERTH_REGISTRY = `${reg.host}/apps`;
    berth = await startBerth({ api: true });
    const register = async (email: string) => {
      expect((await call(berth.apiURL, "POST", "/1.0/users", { form: { email, password: "s3cret-pw" } })).status).to.equal(201);
      return (await call(berth.apiURL, "POST", "/1.0/auth/login", { form: { email, password: "s3cret-pw" } })).json<{ token: string }>().token;
    };
    admin = await register(`ba-${id}@example.com`);
    await berth.client.mergePatch<User>(BerthTypes.User, undefined, userObjectName(`ba-${id}@example.com`), { spec: { admin: true } });
    member = await register(`bm-${id}@example.com`);
    await new Promise((r) => setTimeout(r, 300));
    expect((await tsuru("POST", "/teams", member, { name: team })).status).to.equal(201);
    expect((await tsuru("POST", "/pools", admin, { name: pool, public: "true" })).status).to.equal(201);
  });
  after(async () => {
    if (savedRegistry === undefined) delete process.env.BERTH_REGISTRY;
    else process.env.BERTH_REGISTRY = savedRegistry;
    if (berth) {
      await kubectl("delete", "platform.berth.dev", platformName, `bare-${id}`, "--ignore-not-found").catch(() => undefined);
      await tsuru("DELETE", `/apps/${app}`, admin).catch(() => undefined);
      await kubectl("delete", "pool.berth.dev", pool, "--ignore-not-found", "--wait=false").catch(() => undefined);
      await berth.stop();
    }
    await reg?.stop();
  });

  it("adds platforms from a FROM-only Dockerfile (admins only), lists and shows them", async () => {
    const base = await pushBaseImage(reg.host, "base/python", "3");
    const dockerfile = (text: string) => ({ field: "dockerfile_content", filename: "Dockerfile", data: Buffer.from(text) });
    const refused = await multipart(`${berth.apiURL}/1.0/platforms`, member, dockerfile(`FROM ${base}\n`), { name: platformName });
    expect(refused.status).to.equal(403);
    const docker = await multipart(`${berth.apiURL}/1.0/platforms`, admin, dockerfile(`FROM ${base}\nRUN apt-get install python3\n`), { name: platformName });
    expect(docker.status).to.equal(400);
    expect(docker.text).to.match(/Berth builds without Docker.*\(found RUN\)/);
    const added = await multipart(`${berth.apiURL}/1.0/platforms`, admin, dockerfile(`FROM ${base}\nENV LANG=C.UTF-8\nCMD python3 app.py\n`), { name: platformName });
    expect(added.status, added.text).to.equal(200);
    expect(added.text).to.include("Platform successfully added!");
    const p = await berth.client.get<{ spec: unknown } & App>(BerthTypes.Platform, undefined, platformName);
    expect(p.spec).to.deep.equal({ image: base, env: [{ name: "LANG", value: "C.UTF-8" }], command: "python3 app.py" });
    expect((await tsuru("POST", "/platforms", admin, { name: `bare-${id}`, image: `${reg.host}/base/python:3` })).status).to.equal(200);
    const list = (await tsuru("GET", "/platforms", member)).json<{ Name: string; Disabled: boolean }[]>();
    expect(list).to.deep.include({ Name: platformName, Disabled: false });
    const info = await call(berth.apiURL, "GET", `/1.6/platforms/${platformName}`, { token: member });
    expect(info.json()).to.deep.equal({ platform: { Name: platformName, Disabled: false }, images: [base] });
    expect((await tsuru("GET", "/platforms/nope", member)).status).to.equal(404);
    expect((await tsuru("PUT", `/platforms/bare-${id}`, admin, { disabled: "true" })).status).to.equal(200);
    expect((await tsuru("GET", "/platforms", member)).json<{ Name: string; Disabled: boolean }[]>()).to.deep.include({ Name: `bare-${id}`, Disabled: true });
    expect((await tsuru("DELETE", `/platforms/bare-${id}`, member)).status).to.equal(403);
    expect((await tsuru("DELETE", `/platforms/bare-${id}`, admin)).status).to.equal(200);
    const bad = await tsuru("POST", "/apps", member, { name: app, teamOwner: team, pool, platform: "cobol" });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.match(/platform "cobol" not found/);
    expect((await tsuru("POST", "/apps", member, { name: app, teamOwner: team, pool, platform: platformName })).status).to.equal(201);
    expect((await tsuru("GET", `/apps/${app}`, member)).json()).to.include({ platform: platformName });
  });

  it("deploys a directory: builds, pushes by version, releases the image by digest, streams ending OK", async () => {
    // A new app has release v1 (nothing deployed yet): the first deploy makes v2.
    const next = ((await releases()).at(-1)?.spec.version ?? 0) + 1;
    const t0 = Date.now();
    const r = await deploy(member, { "app.py": "print('v1')\n", Procfile: "web: python3 app.py\nworker: python3 worker.py\n" });
    const ms = Date.now() - t0;
    expect(r.status).to.equal(200);
    const lines = r.text.trimEnd().split("\n");
    expect(lines.at(-1), r.text).to.equal("OK");
    expect(r.text).to.include(`Building ${app} v${next} on platform ${platformName}`).and.to.include("Pushed");
    const rel = (await releases()).at(-1)!;
    expect(rel.spec.version).to.equal(next);
    firstSource = next;
    expect(rel.spec.image).to.match(new RegExp(`^${reg.host}/apps/${app}@sha256:[a-f0-9]{64}$`));
    expect(rel.spec.processes.map((p) => [p.name, p.command])).to.deep.equal([["web", ["/bin/sh", "-c", "python3 app.py"]], ["worker", ["/bin/sh", "-c", "python3 worker.py"]]]);
    expect(rel.spec.summary).to.match(new RegExp(`^bm-${id}@example.com (created the app with|deployed) `));
    const m = await new RegistryClient(reg.host).manifest(`apps/${app}`, `v${next}`);
    expect(rel.spec.image.endsWith(m.digest)).to.equal(true);
    const builds = ((await berth.client.list<Build>(BerthTypes.Build, undefined)).items ?? []).filter((b) => b.spec.app === app);
    expect(builds).to.have.length(1);
    expect(builds[0]!.spec).to.include({ phase: "Succeeded", platform: platformName, version: next, imageDigest: m.digest, author: `bm-${id}@example.com` });
    expect(builds[0]!.spec.log).to.include("Pushed");
    const deploys = (await tsuru("GET", `/deploys?app=${app}`, member)).json<{ Origin: string; Version: number }[]>();
    expect(deploys[0]).to.include({ Origin: "app-deploy", Version: next });
    process.stdout.write(`    source deploy of a small app (upload → build → released on KWOK): ${ms} ms\n`);
  });

  it("fails clearly and keeps the previous release: no Procfile and no command, bad archive, unknown platform, registry down, too large", async () => {
    // The platform has a default command: a source without a Procfile runs it as web.
    const second = await deploy(member, { "app.py": "print('v2')\n" });
    expect(second.text.trimEnd().split("\n").at(-1), second.text).to.equal("OK");
    expect((await releases()).at(-1)!.spec.processes.map((p) => p.name)).to.deep.equal(["web"]);
    const before = (await releases()).length;
    await berth.client.mergePatch(BerthTypes.Platform, undefined, platformName, { spec: { command: null } });
    await eventually("platform command gone", async () => ((await tsuru("GET", `/apps/${app}`, member)).status === 200 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    const noProc = await deploy(member, { "app.py": "x" });
    expect(noProc.status).to.equal(200);
    expect(noProc.text.trimEnd().split("\n").at(-1)).to.match(/^Error: build failed: the source has no Procfile and platform .* has no default command/);
    const garbage = await multipart(`${berth.apiURL}/1.0/apps/${app}/deploy`, member, { field: "file", filename: "archive.tar.gz", data: Buffer.from("not a tarball") });
    expect(garbage.text.trimEnd().split("\n").at(-1)).to.match(/^Error: build failed: the upload is not a gzip archive/);
    expect((await tsuru("PUT", `/apps/${app}`, admin, { platform: "cobol" })).status).to.equal(400);
    await berth.client.mergePatch(BerthTypes.App, (await berth.client.list<App>(BerthTypes.App, undefined)).items.find((a) => a.metadata.name === app)!.metadata.namespace, app, { spec: { platform: "gone" } });
    await new Promise((r) => setTimeout(r, 500));
    const unknown = await deploy(member, { Procfile: "web: x" });
    expect(unknown.text.trimEnd().split("\n").at(-1)).to.match(/^Error: build failed: platform "gone" not found/);
    await berth.client.mergePatch(BerthTypes.App, (await berth.client.list<App>(BerthTypes.App, undefined)).items.find((a) => a.metadata.name === app)!.metadata.namespace, app, { spec: { platform: platformName } });
    process.env.BERTH_REGISTRY = "127.0.0.1:1/apps";
    await new Promise((r) => setTimeout(r, 500));
    const down = await deploy(member, { Procfile: "web: x" });
    process.env.BERTH_REGISTRY = `${reg.host}/apps`;
    expect(down.text.trimEnd().split("\n").at(-1)).to.match(/^Error: build failed: the registry 127\.0\.0\.1:1 is unreachable/);
    process.env.BERTH_BUILD_MAX_UPLOAD_MB = "1";
    const big = await deploy(member, { Procfile: "web: x", "blob.txt": randomBytes(3 << 20).toString("base64") }).finally(() => delete process.env.BERTH_BUILD_MAX_UPLOAD_MB);
    expect(big.text.trimEnd().split("\n").at(-1)).to.match(/^Error: build failed: the archive is \d+\.\d MiB: the limit is 1 MiB/);
    expect((await releases()).length).to.equal(before);
    const failed = ((await berth.client.list<Build>(BerthTypes.Build, undefined)).items ?? []).filter((b) => b.spec.app === app && b.spec.phase === "Failed");
    expect(failed.length).to.be.at.least(3);
    const dockerfile = await call(berth.apiURL, "POST", `/1.0/apps/${app}/deploy`, { token: member, form: { dockerfile: "FROM x" } });
    expect(dockerfile.status).to.equal(501);
    expect(dockerfile.text).to.match(/Berth builds without Docker/);
  });

  it("rolls back across source releases", async () => {
    const rels = await releases();
    const first = rels.find((r) => r.spec.version === firstSource)!;
    const rb = await tsuru("POST", `/apps/${app}/deploy/rollback`, member, { version: String(firstSource), origin: "rollback" });
    expect(rb.status).to.equal(200);
    const last = await eventually("rollback release", async () => {
      const r = (await releases()).at(-1)!;
      return r.spec.version > rels.at(-1)!.spec.version ? r : undefined;
    });
    expect(last.spec.image).to.equal(first.spec.image);
    expect(last.spec.processes.map((p) => p.name)).to.deep.equal(["web", "worker"]);
  });
});
