// The tsuru dialect. Served under "/tsuru" and, for the tsuru client, under its versioned
// prefixes (/1.0/apps, /1.18/auth/schemes, ...), which the server rewrites to "/tsuru".
// Errors are plain text with the status code, as tsuru's API answers them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import type { Dialect } from "../server.ts";
import { appRoutes } from "./app-routes.ts";
import { certificateRoutes } from "./certificate-routes.ts";
import { websocketMessage } from "./http.ts";
import { extraRoutes } from "./extra-routes.ts";
import { authRoutes } from "./auth-routes.ts";
import { cliMachineryPaths, machineryPaths } from "./machinery.ts";
import { poolRoutes } from "./pool-routes.ts";
import { roleRoutes } from "./role-routes.ts";
import { miscRoutes } from "./misc-routes.ts";
import { serviceRoutes } from "./service-routes.ts";
import { tokenRoutes } from "./token-routes.ts";
import { buildLimits } from "../apps/source.ts";
import { multipartParser } from "./multipart.ts";
import { platformRoutes } from "./platform-routes.ts";

/** "/apps/{app}" -> "/apps/:app" */
export const fastifyPath = (p: string) => p.replace(/\{([^}]+)\}/g, ":$1");

export const tsuruDialect: Dialect<ApiDeps> = {
  name: "tsuru",
  prefixes: ["/tsuru"],
  sendError(reply, err) {
    if (err.status === 401) reply.header("WWW-Authenticate", 'Bearer realm="tsuru" scope="tsuru-scope"');
    reply.code(err.status).type("text/plain; charset=utf-8").send(`${err.message}\n`);
  },
  routes(scope: FastifyInstance, deps: ApiDeps) {
    // The tsuru CLI warns when the server says it needs a newer client.
    scope.addHook("onSend", async (_req, reply) => {
      reply.header("Supported-Tsuru", "1.0.1");
    });
    // Source deploys upload multipart tar.gz (and platform add a Dockerfile): fields become the
    // form, files are kept beside the request; past the build limit the rest is read and dropped.
    scope.addContentTypeParser("multipart/form-data", multipartParser(buildLimits().maxUploadBytes + (1 << 20)));
    scope.get("/healthcheck", async (_req, reply) => reply.type("text/plain").send("WORKING"));
    scope.get("/info", async () => ({ version: "berth-0.1.0" }));
    authRoutes(scope, deps);
    appRoutes(scope, deps);
    poolRoutes(scope, deps);
    serviceRoutes(scope, deps);
    tokenRoutes(scope, deps);
    miscRoutes(scope, deps);
    roleRoutes(scope, deps);
    certificateRoutes(scope, deps);
    platformRoutes(scope, deps);
    extraRoutes(scope, deps);
    for (const m of [...machineryPaths, ...cliMachineryPaths]) {
      const handler = async (req: FastifyRequest, reply: FastifyReply) => {
        // app shell opens a WebSocket: a 501 would reach the user as "bad status"; a message does not.
        if (String(req.headers.upgrade ?? "").toLowerCase() === "websocket") return websocketMessage(req, reply, `Error: ${m.reason}`);
        return reply.code(501).type("text/plain; charset=utf-8").send(`${m.reason}\n`);
      };
      if (m.method === "*") scope.all(fastifyPath(m.path), handler);
      else scope.route({ method: m.method as "GET", url: fastifyPath(m.path), handler });
    }
  },
};

/** Versioned tsuru paths ("/1.0/apps") to the dialect's prefix ("/tsuru/apps"). */
export function rewriteTsuruVersion(url: string): string {
  const m = /^\/\d+\.\d+(\/.*)?$/.exec(url);
  return m ? `/tsuru${m[1] ?? "/"}` : url;
}
