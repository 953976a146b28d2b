// The Deis v1 controller API over the same CRs as tsuru and kubectl. JSON bodies,
// "Authorization: token <t>", paged lists, errors as Django REST Framework renders them
// ({"detail": ...} or {"field": ["message"]}) with Django 1.x's reason phrases, the API
// version header the Deis 1.13 client checks, Deis-Release on changes that make a release.
// One file per resource family; this one wires them.
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import type { Dialect } from "../server.ts";
import { appRoutes } from "./app-routes.ts";
import { authRoutes } from "./auth-routes.ts";
import { certRoutes } from "./cert-routes.ts";
import { configRoutes } from "./config-routes.ts";
import { containerRoutes } from "./container-routes.ts";
import { domainRoutes } from "./domain-routes.ts";
import { DeisHttp, stamp } from "./http.ts";
import { keyRoutes } from "./key-routes.ts";
import { permRoutes } from "./perm-routes.ts";
import { releaseRoutes } from "./release-routes.ts";

export { personalTeam } from "./http.ts";
export { isSshPublicKey } from "../identity/ssh-keys.ts";
export { fromDeisMemory, fromShares } from "./limits.ts";

export const deisDialect: Dialect<ApiDeps> = {
  name: "deis",
  prefixes: ["/v1"],
  sendError(reply, err) {
    reply.code(err.status);
    stamp(reply);
    reply.send(err.fields ?? { detail: err.message });
  },
  routes(s: FastifyInstance, deps: ApiDeps) {
    const h = new DeisHttp(deps);
    s.addHook("onSend", async (_req, reply) => {
      stamp(reply);
    });
    s.get("/", async (req) => {
      h.who(req);
      return { detail: "Berth: Deis v1 API" };
    });
    authRoutes(s, h);
    appRoutes(s, h);
    configRoutes(s, h);
    releaseRoutes(s, h);
    containerRoutes(s, h);
    domainRoutes(s, h);
    keyRoutes(s, h);
    permRoutes(s, h);
    certRoutes(s, h);
  },
};
