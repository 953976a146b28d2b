// What the Deis 1.13 CLI calls beyond the endpoint document (deis/deis:client/controller/models/*
// and controller/api/urls.py): coverage is measured against these too.
import type { Endpoint } from "../coverage.ts";

export const deisClientEndpoints: Endpoint[] = [
  { method: "GET", path: "/v1/", title: "(client) probe: deis register/login check a controller answers 401" },
  { method: "POST", path: "/v1/auth/tokens/", title: "(client) auth:regenerate [-u user | --all]" },
  { method: "POST", path: "/v1/auth/passwd/", title: "(client) auth:passwd [--username]" },
  { method: "GET", path: "/v1/users/", title: "(client) users:list (administrators)" },
  { method: "POST", path: "/v1/apps/{app}/", title: "(client) apps:transfer" },
  { method: "POST", path: "/v1/apps/{app}/containers/restart/", title: "(client) ps:restart" },
  { method: "POST", path: "/v1/apps/{app}/containers/{type}/restart/", title: "(client) ps:restart TYPE" },
  { method: "POST", path: "/v1/apps/{app}/containers/{type}/{num}/restart/", title: "(client) ps:restart TYPE.NUM" },
  { method: "DELETE", path: "/v1/apps/{app}/perms/{username}/", title: "(client) perms:delete" },
  { method: "GET", path: "/v1/admin/perms/", title: "(client) perms:list --admin" },
  { method: "DELETE", path: "/v1/admin/perms/{username}/", title: "(client) perms:delete --admin" },
  { method: "GET", path: "/v1/certs/", title: "(client) certs:list" },
  { method: "POST", path: "/v1/certs/", title: "(client) certs:add" },
  { method: "DELETE", path: "/v1/certs/{common_name}", title: "(client) certs:remove" },
];
