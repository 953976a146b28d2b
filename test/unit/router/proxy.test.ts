// The proxy against real sockets on 127.0.0.1: upstream servers stand in for pods, and a static
// route source stands in for the informers (routing-table.test.ts covers the table itself).
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { expect } from "chai";
import { register } from "prom-client";
import type { Activator } from "../../../src/router/activator.ts";
import { AppActivity } from "../../../src/router/activity.ts";
import type { Endpoint } from "../../../src/router/endpoints.ts";
import { endpointKey } from "../../../src/router/endpoints.ts";
import type { ProxyOptions } from "../../../src/router/proxy.ts";
import { proxyHandler } from "../../../src/router/proxy.ts";
import type { Route } from "../../../src/router/routing-table.ts";
import { upgradeHandler } from "../../../src/router/upgrade.ts";
import { UpstreamPool } from "../../../src/router/upstreams.ts";

class StaticRoute implements Route {
  private cursor = 0;
  constructor(
    readonly app: string,
    public endpoints: Endpoint[],
    readonly namespace = "unit",
  ) {}
  get key() {
    return `${this.namespace}/${this.app}`;
  }
  readonly service = "svc";
  readonly process = "web";
  nextCursor() {
    return this.cursor++;
  }
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function listen(handler: Handler | http.Server): Promise<{ server: http.Server; port: number; connections: () => number }> {
  const server = handler instanceof http.Server ? handler : http.createServer(handler);
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

const ep = (port: number): Endpoint => ({ address: "127.0.0.1", port, key: endpointKey("127.0.0.1", port), pod: `pod-${port}` });

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const { server, port } = await listen(() => undefined);
  await new Promise((r) => server.close(r));
  return port;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, host: string | undefined, o: { method?: string; path?: string; body?: string; agent?: http.Agent } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: o.method ?? "GET", path: o.path ?? "/", headers: host ? { host } : {}, setHost: false, agent: o.agent ?? false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(o.body);
  });
}

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const m = await register.getSingleMetric(name)?.get();
  return m?.values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((s, v) => s + v.value, 0) ?? 0;
}

describe("router: proxy", function () {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function upstream(handler: Handler) {
    const u = await listen(handler);
    cleanups.push(() => new Promise((r) => u.server.close(r)), () => void u.server.closeAllConnections());
    return u;
  }

  async function router(routes: Record<string, StaticRoute>, o: Partial<ProxyOptions> = {}) {
    const upstreams = new UpstreamPool({ maxFreeSockets: 16 });
    const handler = proxyHandler({
      routes: { resolve: (host) => routes[host] },
      upstreams,
      appsDomain: "berth.test",
      requestTimeoutMs: 5000,
      connectTimeoutMs: 1000,
      retries: 2,
      ...o,
    });
    const server = http.createServer(handler);
    server.on("upgrade", upgradeHandler({ routes: { resolve: (host) => routes[host] }, connectTimeoutMs: 1000, retries: 2 }));
    const r = await listen(server);
    cleanups.push(() => upstreams.close(), () => new Promise((res) => r.server.close(res)), () => void r.server.closeAllConnections());
    return r;
  }

  const echo: Handler = (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => res.writeHead(201, { "content-type": "application/json", "x-app": "echo" }).end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body })));
  };

  it("routes by Host to the app, with method, path, body, status and headers intact, and X-Forwarded-*", async () => {
    const up = await upstream(echo);
    const r = await router({ "hello.berth.test": new StaticRoute("hello", [ep(up.port)]) });
    const a = await request(r.port, "Hello.berth.test:8088", { method: "POST", path: "/a/b?c=d", body: "payload" });
    expect(a.status).to.equal(201);
    expect(a.headers["x-app"]).to.equal("echo");
    const seen = JSON.parse(a.body) as { method: string; url: string; body: string; headers: Record<string, string> };
    expect(seen).to.include({ method: "POST", url: "/a/b?c=d", body: "payload" });
    expect(seen.headers).to.include({ host: "Hello.berth.test:8088", "x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http", "x-forwarded-host": "Hello.berth.test:8088" });
  });

  it("answers 404 with a clear body for unknown hosts, 400 without a Host", async () => {
    const r = await router({});
    const a = await request(r.port, "nope.berth.test");
    expect(a.status).to.equal(404);
    expect(a.body).to.contain("no app answers on nope.berth.test").and.contain("<app>.berth.test");
    expect(a.headers["x-berth-router"]).to.equal("unknown-host");
    expect((await request(r.port, undefined)).status).to.equal(400);
  });

  it("answers 503 naming the app when it has no ready endpoint", async () => {
    const r = await router({ "idle.berth.test": new StaticRoute("idle", []) });
    const a = await request(r.port, "idle.berth.test");
    expect(a.status).to.equal(503);
    expect(a.body).to.contain('app "idle" (namespace unit) has no ready endpoint');
  });

  it("lets an activator hold a request until endpoints exist, then forwards it, body included", async () => {
    const up = await upstream(echo);
    const route = new StaticRoute("sleepy", []);
    let held = 0;
    const activator: Activator = {
      activate: async (rt) => {
        held++;
        await new Promise((res) => setTimeout(res, 100)); // the app wakes
        (rt as StaticRoute).endpoints = [ep(up.port)];
        return rt.endpoints;
      },
    };
    const r = await router({ "sleepy.berth.test": route }, { activator });
    const a = await request(r.port, "sleepy.berth.test", { method: "PUT", body: "kept while held" });
    expect(held).to.equal(1);
    expect(a.status).to.equal(201);
    expect((JSON.parse(a.body) as { body: string }).body).to.equal("kept while held");
  });

  it("spreads requests round robin over the endpoints", async () => {
    const ups = await Promise.all([1, 2, 3].map((i) => upstream((_req, res) => res.end(String(i)))));
    const r = await router({ "rr.berth.test": new StaticRoute("rr", ups.map((u) => ep(u.port))) });
    const bodies: string[] = [];
    for (let i = 0; i < 9; i++) bodies.push((await request(r.port, "rr.berth.test")).body);
    expect(bodies.filter((b) => b === "1")).to.have.length(3);
    expect(bodies.filter((b) => b === "2")).to.have.length(3);
    expect(bodies.filter((b) => b === "3")).to.have.length(3);
  });

  it("retries another endpoint on a connect error, counting it, and never loses a request", async () => {
    const up = await upstream((_req, res) => res.end("alive"));
    const dead = await closedPort();
    const r = await router({ "flaky.berth.test": new StaticRoute("flaky", [ep(dead), ep(up.port)]) });
    const before = await counter("berth_router_upstream_errors_total", { app: "flaky", reason: "connect" });
    const answers = await Promise.all(Array.from({ length: 6 }, () => request(r.port, "flaky.berth.test")));
    expect(answers.map((a) => a.body)).to.deep.equal(Array(6).fill("alive"));
    expect((await counter("berth_router_upstream_errors_total", { app: "flaky", reason: "connect" })) - before).to.equal(3);
  });

  it("answers 502 when no endpoint accepts a connection", async () => {
    const r = await router({ "down.berth.test": new StaticRoute("down", [ep(await closedPort()), ep(await closedPort())]) });
    const a = await request(r.port, "down.berth.test");
    expect(a.status).to.equal(502);
    expect(a.body).to.contain('app "down" (namespace unit): none of its 2 endpoint(s) accepted a connection');
  });

  it("does not retry once the app may have seen the request: a reset after connect is a 502", async () => {
    let hits = 0;
    const up = await upstream((req) => {
      hits++;
      req.socket.destroy();
    });
    const other = await upstream((_req, res) => res.end("second"));
    const r = await router({ "reset.berth.test": new StaticRoute("reset", [ep(up.port), ep(other.port)]) });
    const a = await request(r.port, "reset.berth.test", { method: "POST", body: "once" });
    expect(a.status).to.equal(502);
    expect(hits).to.equal(1);
  });

  it("answers 504 when the app does not answer within the request timeout", async () => {
    const up = await upstream(() => undefined);
    const r = await router({ "slow.berth.test": new StaticRoute("slow", [ep(up.port)]) }, { requestTimeoutMs: 200 });
    const t0 = Date.now();
    const a = await request(r.port, "slow.berth.test");
    expect(a.status).to.equal(504);
    expect(a.body).to.contain("did not answer within 200ms");
    expect(Date.now() - t0).to.be.below(2000);
  });

  it("drops the upstream request when the client goes away, without retrying or counting an upstream error", async () => {
    let upstreamSawClose = false;
    const hanging = await upstream((req) => req.socket.once("close", () => (upstreamSawClose = true)));
    let otherHits = 0;
    const other = await upstream((_req, res) => (otherHits++, res.end()));
    const r = await router({ "gone.berth.test": new StaticRoute("gone", [ep(hanging.port), ep(other.port)]) });
    const before = await counter("berth_router_upstream_errors_total", { app: "gone" });
    await new Promise<void>((resolve) => {
      const req = http.get({ host: "127.0.0.1", port: r.port, headers: { host: "gone.berth.test" }, agent: false });
      req.on("error", () => resolve());
      setTimeout(() => req.destroy(), 100);
    });
    const until = Date.now() + 2000;
    while (!upstreamSawClose && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
    expect(upstreamSawClose).to.equal(true);
    expect(otherHits).to.equal(0);
    expect((await counter("berth_router_upstream_errors_total", { app: "gone" })) - before).to.equal(0);
    expect(await counter("berth_router_requests_total", { app: "gone", code: "499" })).to.equal(1);
  });

  it("streams both ways: the app reads the body before the client finished, the client reads before the app finished", async () => {
    let release!: () => void;
    const clientMayFinish = new Promise<void>((r) => (release = r));
    let finishResponse!: () => void;
    const up = await upstream((req, res) => {
      req.once("data", () => release()); // first request chunk arrived while the client still sends
      res.writeHead(200);
      res.write("first;");
      finishResponse = () => res.end("last");
      req.resume();
    });
    const r = await router({ "stream.berth.test": new StaticRoute("stream", [ep(up.port)]) });
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: r.port, method: "POST", headers: { host: "stream.berth.test", "transfer-encoding": "chunked" }, agent: false }, (res) => {
        let got = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          got += c;
          if (got === "first;") finishResponse(); // the first chunk came through on its own
        });
        res.on("end", () => resolve(got));
      });
      req.on("error", reject);
      req.write("chunk-1");
      void clientMayFinish.then(() => req.end("chunk-2"));
    });
    expect(body).to.equal("first;last");
  });

  it("reuses keep-alive connections to an endpoint", async () => {
    const up = await upstream((_req, res) => res.end("ok"));
    const r = await router({ "ka.berth.test": new StaticRoute("ka", [ep(up.port)]) });
    for (let i = 0; i < 10; i++) expect((await request(r.port, "ka.berth.test")).body).to.equal("ok");
    expect(up.connections()).to.equal(1);
  });

  it("counts requests by app and code, and tracks per-app activity for idle detection", async () => {
    const up = await upstream((_req, res) => res.writeHead(418).end());
    const activity = new AppActivity();
    const r = await router({ "tea.berth.test": new StaticRoute("tea", [ep(up.port)]) }, { activity });
    const before = await counter("berth_router_requests_total", { app: "tea", code: "418" });
    await request(r.port, "tea.berth.test");
    await request(r.port, "tea.berth.test");
    await new Promise((res) => setTimeout(res, 20)); // metrics are recorded on the response's close
    expect((await counter("berth_router_requests_total", { app: "tea", code: "418" })) - before).to.equal(2);
    expect(activity.get("unit/tea")).to.include({ inFlight: 0, total: 2 });
    expect(activity.idleSince(0)).to.deep.equal(["unit/tea"]);
    expect(activity.idleSince(60_000)).to.deep.equal([]);
  });

  it("forwards upgraded connections (WebSocket-style) after a connect-error retry, both ways", async () => {
    const up = await listen(http.createServer((_req, res) => res.end("plain")));
    cleanups.push(() => new Promise((r) => up.server.close(r)), () => void up.server.closeAllConnections());
    let seenForwardedFor = "";
    up.server.on("upgrade", (req: http.IncomingMessage, socket: Duplex) => {
      seenForwardedFor = String(req.headers["x-forwarded-for"]);
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
      socket.on("data", (d: Buffer) => socket.write(`echo:${d.toString()}`));
      socket.on("end", () => socket.end()); // upgraded server sockets are half-open by default
    });
    const r = await router({ "ws.berth.test": new StaticRoute("ws", [ep(await closedPort()), ep(up.port)]) });
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: r.port, headers: { host: "ws.berth.test", connection: "Upgrade", upgrade: "echo" }, agent: false });
      req.on("upgrade", (res, socket) => {
        expect(res.statusCode).to.equal(101);
        socket.once("data", (d: Buffer) => {
          socket.destroy();
          resolve(d.toString());
        });
        socket.write("ping");
      });
      req.on("error", reject);
      req.end();
    });
    expect(echoed).to.equal("echo:ping");
    expect(seenForwardedFor).to.equal("127.0.0.1");
    const refused = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: r.port, headers: { host: "nope.berth.test", connection: "Upgrade", upgrade: "echo" }, agent: false });
      req.on("response", (res) => resolve(res.statusCode ?? 0));
      req.on("error", reject);
      req.end();
    });
    expect(refused).to.equal(404);
  });
});
