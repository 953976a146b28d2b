// A request written to a keep-alive connection the server is closing fails before any answer:
// the client sends it again once on a new connection, unless sending twice could do twice.
import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeClient, retriesOnStaleConnection } from "../../../src/kube/client.ts";
import { Types } from "../../../src/kube/resource.ts";

/** A server that answers a socket's first request and drops the connection on its second, as one closing an idle connection does. */
async function closingServer(): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const served = new WeakMap<object, number>();
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n > 1) return req.socket.destroy();
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ metadata: { name: "x", namespace: "ns" } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

async function clientFor(server: string): Promise<KubeClient> {
  return KubeClient.create({ server, skipTLSVerify: true, headers: async () => ({}) });
}

describe("KubeClient on a stale keep-alive connection", () => {
  it("sends a GET again on a new connection", async () => {
    const s = await closingServer();
    const c = await clientFor(s.url);
    try {
      await c.get(Types.Secret, "ns", "x");
      const again = await c.get(Types.Secret, "ns", "x"); // reuses the first socket, which the server drops
      expect(again.metadata.name).to.equal("x");
      expect(s.requests).to.deep.equal(["GET /api/v1/namespaces/ns/secrets/x", "GET /api/v1/namespaces/ns/secrets/x", "GET /api/v1/namespaces/ns/secrets/x"]);
    } finally {
      c.close();
      await s.close();
    }
  });

  it("does not send a POST twice", async () => {
    const s = await closingServer();
    const c = await clientFor(s.url);
    try {
      await c.get(Types.Secret, "ns", "x");
      const err = await c.create(Types.Secret, { metadata: { name: "y", namespace: "ns" } }).then(() => undefined, (e: unknown) => e as { code?: string });
      expect(err?.code).to.be.oneOf(["ECONNRESET", "EPIPE"]);
      expect(s.requests.filter((r) => r.startsWith("POST"))).to.have.length(1);
    } finally {
      c.close();
      await s.close();
    }
  });

  it("retries only failures on a reused connection, before an answer, of requests safe to repeat", () => {
    const reset = { code: "ECONNRESET", reusedSocket: true };
    expect(retriesOnStaleConnection(reset, "GET", undefined)).to.equal(true);
    expect(retriesOnStaleConnection({ code: "EPIPE", reusedSocket: true }, "PATCH", "application/apply-patch+yaml")).to.equal(true);
    expect(retriesOnStaleConnection({ code: "ECONNRESET", reusedSocket: false }, "GET", undefined)).to.equal(false);
    expect(retriesOnStaleConnection({ code: "ECONNREFUSED", reusedSocket: true }, "GET", undefined)).to.equal(false);
    expect(retriesOnStaleConnection(reset, "POST", "application/json")).to.equal(false);
    expect(retriesOnStaleConnection(reset, "PATCH", "application/json-patch+json")).to.equal(false);
  });
});
