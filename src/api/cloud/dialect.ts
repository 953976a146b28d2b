// The cloud services API (ClickHouse Cloud's REST API, v1): organizations are Teams, services are
// ServiceInstances, backups are the Jobs of an instance's backup CronJob, API keys are CloudKey
// Tokens sent as HTTP Basic key id:secret. Served under /v1/organizations, beside Deis' /v1
// (which has no /v1/organizations: the static segment routes here).
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import type { Dialect } from "../server.ts";
import { backupRoutes } from "./backup-routes.ts";
import { requestId, sendCloudError } from "./http.ts";
import { organizationRoutes } from "./organization-routes.ts";
import { serviceRoutes } from "./service-routes.ts";

export const cloudDialect: Dialect<ApiDeps> = {
  name: "cloud",
  prefixes: ["/v1/organizations"],
  sendError(reply, err) {
    sendCloudError(reply.request, reply, err);
  },
  routes(scope: FastifyInstance, deps: ApiDeps) {
    scope.addHook("onRequest", async (req) => {
      requestId(req);
    });
    organizationRoutes(scope, deps);
    serviceRoutes(scope, deps);
    backupRoutes(scope, deps);
  },
};
