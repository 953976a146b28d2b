// The cluster API (api-reference 003): settings validated by a published JSON Schema, jobs
// (Apps) with task groups (process types) and counts, long polling, logs and loggers, events,
// secrets. JSON everywhere; errors are {"error": "<message>"} (settings errors add "errors":
// [{path, rule, message}]). Paths are served at the root as documented (/v1/... and
// /secrets/...), and also under /cluster/... (see docs/api/cluster.md for why).
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import type { Dialect } from "../server.ts";
import { InvalidSettings } from "./http.ts";
import { eventRoutes } from "./event-routes.ts";
import { jobRoutes } from "./job-routes.ts";
import { logRoutes } from "./log-routes.ts";
import { secretRoutes } from "./secret-routes.ts";
import { settingsRoutes } from "./settings-routes.ts";

export const clusterDialect: Dialect<ApiDeps> = {
  name: "cluster",
  prefixes: ["", "/cluster"],
  sendError(reply, err) {
    reply
      .code(err.status)
      .type("application/json; charset=utf-8")
      .send({ error: err.message, ...(err instanceof InvalidSettings ? { errors: err.errors } : {}) });
  },
  routes(scope: FastifyInstance, deps: ApiDeps) {
    settingsRoutes(scope, deps);
    jobRoutes(scope, deps);
    logRoutes(scope, deps);
    eventRoutes(scope, deps);
    secretRoutes(scope, deps);
  },
};
