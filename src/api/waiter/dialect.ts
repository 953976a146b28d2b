// The Waiter dialect, at the root: /token, /tokens, /apps, /apps/{service-id}, /status, /settings. tsuru lives under /tsuru (and its
// versioned /1.x prefixes), Deis under /v1, so Waiter's root-level paths collide with neither.
// Errors are {"waiter-error": {...}} as twosigma/waiter:waiter/src/waiter/util/utils.clj
// (exception->response, build-error-context) renders them for JSON clients.
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import type { Dialect } from "../server.ts";
import { waiterError } from "./errors.ts";
import { interceptServiceRequest, serviceRequestRoutes } from "./service-requests.ts";
import { serviceRoutes } from "./service-routes.ts";
import { CLUSTER_NAME, tokenRoutes } from "./token-routes.ts";

export const waiterDialect: Dialect<ApiDeps> = {
  name: "waiter",
  prefixes: [""],
  sendError(reply, err) {
    reply.code(err.status).type("application/json").send(waiterError(reply.request, err));
  },
  intercept: interceptServiceRequest,
  routes(scope: FastifyInstance, deps: ApiDeps) {
    // waiter/src/waiter/core.clj: the status handler answers {"status": "ok"}.
    scope.get("/status", async () => ({ status: "ok" }));
    // The settings Waiter's CLI reads (waiter-client: waiter/querying.py _get_latest_cluster reads
    // cluster-config.name to find the cluster a token lives on); tokens carry the same name.
    scope.get("/settings", async () => ({ "cluster-config": { name: CLUSTER_NAME }, "token-config": { "history-length": 1 } }));
    tokenRoutes(scope, deps);
    serviceRoutes(scope, deps);
    serviceRequestRoutes(scope, deps);
  },
};
