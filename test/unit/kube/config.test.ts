// Finding the cluster as kubectl does: kubeconfig files merged first-wins, paths relative to
// their file, tokens read from disk on each refresh, the pod's service account, and exec plugins
// handed to @kubernetes/client-node.
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { connectionFromKubeconfig, inClusterConnection, loadConnection, mergeKubeconfigs } from "../../../src/kube/config.ts";

describe("kube connection (kubeconfig, service account)", () => {
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-kubeconfig-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, typeof content === "string" ? content : stringify(content));
    return file;
  };
  const config = (user: Record<string, unknown>, cluster: Record<string, unknown> = { server: "https://10.0.0.1:6443" }) => ({
    "current-context": "dev",
    contexts: [{ name: "dev", context: { cluster: "c", user: "u" } }],
    clusters: [{ name: "c", cluster }],
    users: [{ name: "u", user }],
  });

  it("reads certificates from files named relative to the kubeconfig, and a bearer token", async () => {
    write("ca.crt", "CA");
    write("client.crt", "CERT");
    write("client.key", "KEY");
    const file = write("config", config({ "client-certificate": "client.crt", "client-key": "client.key", token: "t0k" }, { server: "https://k:6443", "certificate-authority": "ca.crt" }));
    const conn = connectionFromKubeconfig(mergeKubeconfigs([file]), file)!;
    expect(conn.server).to.equal("https://k:6443");
    expect([conn.ca?.toString(), conn.cert?.toString(), conn.key?.toString()]).to.deep.equal(["CA", "CERT", "KEY"]);
    expect(conn.skipTLSVerify).to.equal(false);
    expect(await conn.headers()).to.deep.equal({ Authorization: "Bearer t0k" });
  });

  it("decodes inline data, and honours insecure-skip-tls-verify, basic auth and impersonation", async () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const file = write("config", config({ "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY"), username: "ann", password: "pw", as: "system:serviceaccount:x:y" }, { server: "https://k", "insecure-skip-tls-verify": true, "certificate-authority-data": b64("CA") }));
    const conn = connectionFromKubeconfig(mergeKubeconfigs([file]), file)!;
    expect([conn.ca?.toString(), conn.cert?.toString(), conn.key?.toString()]).to.deep.equal(["CA", "CERT", "KEY"]);
    expect(conn.skipTLSVerify).to.equal(true);
    expect(await conn.headers()).to.deep.equal({ Authorization: `Basic ${b64("ann:pw")}`, "Impersonate-User": "system:serviceaccount:x:y" });
  });

  it("reads a token file again on each refresh (tokens rotate)", async () => {
    const token = write("token", "first\n");
    const file = write("config", config({ tokenFile: "token" }));
    const conn = connectionFromKubeconfig(mergeKubeconfigs([file]), file)!;
    expect(await conn.headers()).to.deep.equal({ Authorization: "Bearer first" });
    writeFileSync(token, "second");
    expect(await conn.headers()).to.deep.equal({ Authorization: "Bearer second" });
  });

  it("merges files as kubectl does: the first file to set a name or the current context wins", () => {
    const a = write("a", { "current-context": "dev", clusters: [{ name: "c", cluster: { server: "https://first" } }] });
    const b = write("b", { "current-context": "prod", contexts: [{ name: "dev", context: { cluster: "c", user: "u" } }], clusters: [{ name: "c", cluster: { server: "https://second" } }], users: [{ name: "u", user: {} }] });
    const conn = connectionFromKubeconfig(mergeKubeconfigs([a, b]), "a:b")!;
    expect(conn.server).to.equal("https://first");
  });

  it("says what is missing when the current context cannot be followed", () => {
    expect(() => connectionFromKubeconfig(mergeKubeconfigs([write("none", {})]), "none")).to.throw(/no current-context/);
    const dangling = write("dangling", { "current-context": "gone" });
    expect(() => connectionFromKubeconfig(mergeKubeconfigs([dangling]), "dangling")).to.throw(/"gone" is not defined/);
    const serverless = write("serverless", { ...config({}), clusters: [{ name: "c", cluster: {} }] });
    expect(() => connectionFromKubeconfig(mergeKubeconfigs([serverless]), "serverless")).to.throw(/no cluster with a server/);
  });

  it("leaves exec plugins and auth providers to client-node, which runs the plugin", async () => {
    const cred = JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: "from-plugin" } });
    const exec = { apiVersion: "client.authentication.k8s.io/v1", command: "sh", args: ["-c", `echo '${cred}'`], interactiveMode: "Never" };
    const file = write("config", config({ exec }));
    expect(connectionFromKubeconfig(mergeKubeconfigs([file]), file)).to.equal(undefined);
    const conn = await loadConnection({ KUBECONFIG: file, HOME: dir });
    expect(conn.server).to.equal("https://10.0.0.1:6443");
    expect((await conn.headers()).Authorization).to.equal("Bearer from-plugin");
  });

  it("loads $KUBECONFIG, and fails clearly when it names no file", async () => {
    const file = write("config", config({ token: "t" }));
    expect((await loadConnection({ KUBECONFIG: `${join(dir, "missing")}:${file}`, HOME: dir })).server).to.equal("https://10.0.0.1:6443");
    let error = "";
    await loadConnection({ KUBECONFIG: join(dir, "missing"), HOME: dir }).catch((e: Error) => (error = e.message));
    expect(error).to.match(/KUBECONFIG names no file that exists/);
  });

  it("uses the pod's service account, re-reading its token", async () => {
    write("ca.crt", "CA");
    write("token", "sa-1");
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    Object.assign(process.env, { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" });
    try {
      const conn = inClusterConnection(dir);
      expect(conn.server).to.equal("https://[fd00::1]:443");
      expect(conn.ca?.toString()).to.equal("CA");
      expect(await conn.headers()).to.deep.equal({ Authorization: "Bearer sa-1" });
      write("token", "sa-2");
      expect(await conn.headers()).to.deep.equal({ Authorization: "Bearer sa-2" });
    } finally {
      for (const [k, v] of [["KUBERNETES_SERVICE_HOST", saved.host], ["KUBERNETES_SERVICE_PORT", saved.port]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
