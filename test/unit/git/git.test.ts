// The git endpoint's pure parts: the exec command, the ref updates a push makes, who owns a key,
// who may push, platform detection, the hook's request, and the hook script run for real.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import ssh2 from "ssh2";
import type { App, User } from "../../../src/model/kinds.ts";
import { detectPlatform } from "../../../src/api/apps/source.ts";
import { fingerprint, keyBlob, ownerOfKey, sameKey, sha256Fingerprint } from "../../../src/api/identity/ssh-keys.ts";
import { parseGitCommand } from "../../../src/git/exec-command.ts";
import { HOOK_SOCKET_ENV, hookScript, parseHookRequest } from "../../../src/git/hook.ts";
import { deployedUpdate, parseRefUpdates } from "../../../src/git/refs.ts";
import { pushRefusal } from "../../../src/git/server.ts";
import { loadGitConfig } from "../../../src/git/config.ts";

const publicKey = () => ssh2.utils.generateKeyPairSync("ed25519").public;
const user = (name: string, keys: string[], extra: Partial<User["spec"]> = {}): User =>
  ({ apiVersion: "berth.dev/v1alpha1", kind: "User", metadata: { name: `u-${name}`, uid: `uid-${name}` }, spec: { email: `${name}@example.com`, username: name, sshKeys: keys.map((k, i) => ({ id: `k${i}`, publicKey: k })), ...extra } }) as User;
const member = (team: string): Partial<User["spec"]> => ({ roles: [{ role: "team-member", contextType: "team", contextValue: team }] });
const app = (name: string, owner: string, teams: string[] = []): App => ({ metadata: { name, namespace: "ns" }, spec: { image: "x", processes: [], owner, teams } }) as unknown as App;
const A = "a".repeat(40);
const B = "b".repeat(40);
const Z = "0".repeat(40);

describe("git endpoint: the exec command", () => {
  it("accepts receive-pack and upload-pack with or without slash, quotes and .git", () => {
    for (const c of ["git-receive-pack '/shop.git'", "git-receive-pack 'shop.git'", "git-receive-pack '/shop'", "git-receive-pack shop.git", 'git-receive-pack "/shop.git"', "git receive-pack '/shop.git'"])
      expect(parseGitCommand(c), c).to.deep.equal({ service: "git-receive-pack", app: "shop" });
    expect(parseGitCommand("git-upload-pack '/shop.git'")).to.deep.equal({ service: "git-upload-pack", app: "shop" });
  });
  it("refuses other commands, paths and names with a reason", () => {
    for (const c of ["ls -la", "git-receive-pack", "git-receive-pack '/a/b.git'", "git-receive-pack '../x.git'", "git-receive-pack 'Shop.git'", "git-receive-pack ''", "bash -c 'git-receive-pack x'", "git-upload-archive 'x.git'"]) {
      const r = parseGitCommand(c);
      expect(r, c).to.have.property("error").that.is.a("string").with.length.above(0);
    }
    expect((parseGitCommand("ls") as { error: string }).error).to.match(/only receives pushes/);
  });
});

describe("git endpoint: ref updates", () => {
  it("reads the hook's lines and picks master or main", () => {
    const updates = parseRefUpdates(`${Z} ${A} refs/heads/master\n`);
    expect(updates).to.deep.equal([{ oldRev: Z, newRev: A, ref: "refs/heads/master" }]);
    expect(deployedUpdate(updates)).to.deep.equal(updates[0]);
    expect(deployedUpdate(parseRefUpdates(`${A} ${B} refs/heads/main`))).to.have.property("ref", "refs/heads/main");
  });
  it("refuses other branches, tags, deletions, empty and double pushes", () => {
    expect(deployedUpdate(parseRefUpdates(`${Z} ${A} refs/heads/dev`))).to.have.property("error").that.match(/dev is not deployed: push master or main/);
    expect(deployedUpdate(parseRefUpdates(`${Z} ${A} refs/tags/v1`))).to.have.property("error");
    expect(deployedUpdate(parseRefUpdates(`${A} ${Z} refs/heads/master`))).to.have.property("error").that.match(/deleting master/);
    expect(deployedUpdate([])).to.have.property("error");
    expect(deployedUpdate(parseRefUpdates(`${Z} ${A} refs/heads/master\n${Z} ${B} refs/heads/main`))).to.have.property("error");
    expect(parseRefUpdates("garbage\nx y z\n")).to.deep.equal([]);
  });
});

describe("git endpoint: keys and permissions", () => {
  it("finds the user who registered a key, whatever its comment; none for an unknown key", () => {
    const [k1, k2, k3] = [publicKey(), publicKey(), publicKey()];
    const users = [user("alice", [k1]), user("bob", [k2, `${k3.split(" ").slice(0, 2).join(" ")} bob@laptop`])];
    expect(ownerOfKey(users, keyBlob(k1))?.user.spec.username).to.equal("alice");
    expect(ownerOfKey(users, keyBlob(k3))).to.include({ keyId: "k1" });
    expect(ownerOfKey(users, keyBlob(k3))?.user.spec.username).to.equal("bob");
    expect(ownerOfKey(users, keyBlob(publicKey()))).to.equal(undefined);
    expect(ownerOfKey([], keyBlob(k1))).to.equal(undefined);
    expect(sameKey(k3, `${k3} other comment`)).to.equal(true);
    expect(fingerprint(k1)).to.match(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    expect(sha256Fingerprint(keyBlob(k1))).to.match(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
  it("lets owners, collaborators and admins push; others are told the app is not theirs", () => {
    const owner = user("alice", [], member("user-alice"));
    const collaborator = user("bob", [], member("user-bob"));
    const stranger = user("eve", [], member("user-eve"));
    const admin = user("root", [], { admin: true });
    const shop = app("shop", "user-alice", ["user-bob"]);
    expect(pushRefusal(owner, shop, "shop")).to.equal(undefined);
    expect(pushRefusal(collaborator, shop, "shop")).to.equal(undefined);
    expect(pushRefusal(admin, shop, "shop")).to.equal(undefined);
    expect(pushRefusal(stranger, shop, "shop")).to.match(/^App shop not found, or eve has no permission on it/);
    // An unknown app answers the same: existence is not disclosed.
    expect(pushRefusal(stranger, undefined, "nope")).to.match(/^App nope not found, or eve has no permission/);
  });
});

describe("git endpoint: platform detection and configuration", () => {
  it("detects python, node and static sources among the enabled platforms", () => {
    expect(detectPlatform(["Procfile", "app.py"], ["python", "node"])).to.deep.equal({ platform: "python", label: "Python" });
    expect(detectPlatform(["package.json", "server.js"], ["python", "node"])).to.deep.equal({ platform: "node", label: "Node.js" });
    expect(detectPlatform(["index.html"], ["static"])).to.deep.equal({ platform: "static", label: "Static HTML" });
    expect(detectPlatform(["app.py"], ["node"])).to.equal(undefined);
    expect(detectPlatform(["README"], ["python", "node", "static"])).to.equal(undefined);
  });
  it("reads its configuration from the environment and flags", () => {
    const c = loadGitConfig([], {});
    expect(c).to.include({ port: 2222, address: "127.0.0.1", namespace: "berth-system", appsDomain: "berth.localhost", rolloutTimeoutMs: 120_000 });
    expect(loadGitConfig(["--port", "0", "--listen", "0.0.0.0"], { BERTH_GIT_PORT: "2300" })).to.include({ port: 0, address: "0.0.0.0" });
    expect(() => loadGitConfig([], { BERTH_GIT_ADDRESS: "localhost" })).to.throw(/not an IP address/);
    expect(() => loadGitConfig([], { BERTH_GIT_PORT: "99999" })).to.throw(/BERTH_GIT_PORT/);
  });
});

describe("git endpoint: the pre-receive hook", () => {
  it("keeps only the quarantine variables of a request", () => {
    const r = parseHookRequest(JSON.stringify({ refs: "x", env: { GIT_OBJECT_DIRECTORY: "/q", PATH: "/evil", GIT_QUARANTINE_PATH: 3 } }));
    expect(r).to.deep.equal({ refs: "x", env: { GIT_OBJECT_DIRECTORY: "/q" } });
    expect(parseHookRequest("{}")).to.deep.equal({ refs: "", env: {} });
  });

  /** Runs the hook script with stdin, against a socket server answering answer. */
  async function runHook(stdin: string, answer: (req: string, sock: net.Socket) => void): Promise<{ code: number; out: string; req: string }> {
    const dir = mkdtempSync(join(tmpdir(), "berth-hook-test-"));
    try {
      const hook = join(dir, "pre-receive");
      writeFileSync(hook, hookScript(process.execPath), { mode: 0o755 });
      let req = "";
      const server = net.createServer({ allowHalfOpen: true }, (sock) => {
        sock.on("data", (c: Buffer) => (req += c.toString()));
        sock.on("end", () => answer(req, sock));
      });
      await new Promise<void>((r) => server.listen(join(dir, "s.sock"), r));
      const child = spawn(hook, [], { env: { PATH: process.env.PATH, [HOOK_SOCKET_ENV]: join(dir, "s.sock"), GIT_QUARANTINE_PATH: "/q" } });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stdin.end(stdin);
      const code = await new Promise<number>((r) => child.on("close", (c) => r(c ?? -1)));
      server.close();
      return { code, out, req };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("relays the refs and environment, prints the answer and exits with its status", async () => {
    const ok = await runHook(`${Z} ${A} refs/heads/master\n`, (_req, sock) => {
      sock.write("-----> Building\n");
      sock.end("done\n\u00000");
    });
    expect(ok.code).to.equal(0);
    expect(ok.out).to.equal("-----> Building\ndone\n");
    expect(parseHookRequest(ok.req)).to.deep.equal({ refs: `${Z} ${A} refs/heads/master\n`, env: { GIT_QUARANTINE_PATH: "/q" } });
    const failed = await runHook("", (_req, sock) => sock.end(" !     build failed\n\u00001"));
    expect(failed).to.include({ code: 1, out: " !     build failed\n" });
    // No status at all (the endpoint went away): the push is rejected.
    const cut = await runHook("", (_req, sock) => sock.end("half"));
    expect(cut).to.include({ code: 1, out: "half" });
  });

  it("git itself rejects a push whose hook fails (pre-receive hook declined)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-hook-git-"));
    try {
      execFileSync("git", ["init", "-q", "--bare", join(dir, "remote.git")]);
      writeFileSync(join(dir, "remote.git", "hooks", "pre-receive"), "#!/bin/sh\necho refused by hook\nexit 1\n", { mode: 0o755 });
      execFileSync("git", ["init", "-q", "-b", "master", join(dir, "work")]);
      writeFileSync(join(dir, "work", "f"), "x");
      execFileSync("git", ["-C", join(dir, "work"), "add", "f"]);
      execFileSync("git", ["-C", join(dir, "work"), "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "x"]);
      let err = "";
      try {
        execFileSync("git", ["-C", join(dir, "work"), "push", join(dir, "remote.git"), "master"], { stdio: ["ignore", "pipe", "pipe"] });
      } catch (e) {
        err = String((e as { stderr?: Buffer }).stderr);
      }
      expect(err).to.match(/refused by hook/).and.match(/\[remote rejected\] master -> master \(pre-receive hook declined\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
