// Which requests are Waiter service requests (twosigma/waiter:waiter/src/waiter/core.clj
// waiter-request?-factory), and the server hook that takes them before routing.
import { expect } from "chai";
import type { FastifyRequest } from "fastify";
import type { ApiDeps } from "../../../src/api/deps.ts";
import type { ApiError } from "../../../src/api/errors.ts";
import { buildServer } from "../../../src/api/server.ts";
import { isServiceRequest } from "../../../src/api/waiter/service-requests.ts";
import { silentLogger } from "../../../src/log.ts";

const deps = { ready: () => true, waiterTokens: { get: (n: string) => (n === "tok.example.com" ? { spec: { token: n } } : n === "gone.example.com" ? { spec: { token: n, deleted: true } } : undefined) } } as unknown as ApiDeps;
const req = (url: string, headers: Record<string, string>) => ({ url, originalUrl: url, headers }) as unknown as FastifyRequest;

describe("waiter service requests", () => {
  it("x-waiter-token on any path but Waiter's own (/token, /service-id, /waiter-ping, /app-name, /waiter-async/...) is a service request", () => {
    expect(isServiceRequest(deps, req("/hello?x=1", { "x-waiter-token": "t" }))).to.equal(true);
    expect(isServiceRequest(deps, req("/apps", { "x-waiter-token": "t" }))).to.equal(true);
    for (const own of ["/token", "/service-id", "/waiter-ping", "/app-name", "/waiter-async/status/1/2", "/waiter-auth/x"]) expect(isServiceRequest(deps, req(own, { "x-waiter-token": "t" })), own).to.equal(false);
    expect(isServiceRequest(deps, req("/apps", {}))).to.equal(false);
  });

  it("a Host naming a live token is a service request; localhost, unknown and deleted tokens are not", () => {
    expect(isServiceRequest(deps, req("/", { host: "tok.example.com:8080" }))).to.equal(true);
    expect(isServiceRequest(deps, req("/", { host: "gone.example.com" }))).to.equal(false);
    expect(isServiceRequest(deps, req("/", { host: "other.example.com" }))).to.equal(false);
    expect(isServiceRequest(deps, req("/", { host: "localhost:8080" }))).to.equal(false);
  });

  it("the server hook: an intercepting dialect answers before routing, with the body unread; others are routed as before", async () => {
    const server = buildServer<object>({
      log: silentLogger(),
      deps: {},
      dialects: [
        {
          name: "t",
          prefixes: [""],
          sendError: (reply, err: ApiError) => void reply.code(err.status).send({ e: err.message }),
          routes: (scope) => void scope.post("/x", async () => "routed"),
          intercept: (r, reply) => {
            if (!r.headers["x-take"]) return false;
            reply.hijack();
            const chunks: Buffer[] = [];
            r.raw.on("data", (c: Buffer) => chunks.push(c));
            r.raw.on("end", () => reply.raw.writeHead(200, { "content-type": "text/plain" }).end(`taken ${Buffer.concat(chunks).toString()}`));
            return true;
          },
        },
      ],
    });
    const taken = await server.inject({ method: "POST", url: "/x", headers: { "x-take": "1", "content-type": "application/json" }, payload: '{"a":1}' });
    expect([taken.statusCode, taken.body]).to.deep.equal([200, 'taken {"a":1}']);
    const routed = await server.inject({ method: "POST", url: "/x", headers: { "content-type": "application/json" }, payload: "{}" });
    expect([routed.statusCode, routed.body]).to.deep.equal([200, "routed"]);
    await server.close();
  });
});
