// tsuru paths that describe machinery Kubernetes owns in Berth (Docker nodes and node
// containers, IaaS machines, install hosts, healing, node autoscaling, provisioner clusters,
// platforms/builds, routers, volumes, brokers, debug), or features Berth does not offer
// (event blocks and webhooks, service broker APIs, e-mail resets, groups). They answer 501
// with a message that says what to use instead, never a silent 404. docs/api/tsuru.md is
// generated from this table.

export interface MachineryPath {
  method: string;
  path: string;
  /** Shown to the client. */
  reason: string;
}

const NODES = "Nodes are Kubernetes nodes in Berth: manage them with kubectl (kubectl get nodes); pools select nodes with a node selector";
const IAAS = "Berth does not provision machines: the Kubernetes cluster's own node provisioning (e.g. cluster autoscaler) owns them";
const HEALING = "Kubernetes heals nodes and pods itself (controllers restart and reschedule pods); there is no separate healing";
const DOCKER = "Berth runs on Kubernetes, not on Docker nodes: containers are pods (see GET /apps/{app} for units)";
const AUTOSCALE_NODES = "Node autoscaling is the cluster autoscaler's job in Kubernetes; app units autoscale with an HPA (units autoscale)";
const PROVISIONER = "Berth has one provisioner, the Kubernetes cluster it runs in";
const PLATFORMS = "Berth's platforms are base images that source deploys add a layer to: there are no platform image versions to roll back (tsuru platform update NAME -i IMAGE changes the base), and building without deploying is not offered (tsuru app deploy builds and deploys)";
const ROUTERS = "Routing is a Kubernetes Ingress per app in Berth: set domains with cname; the pool chooses the ingress class";
const VOLUMES = "Volumes are not supported by Berth yet";
const BROKERS = "Service brokers are not supported: services come from Berth's catalog (kubectl get serviceclasses)";
const SHELL = "Interactive shells are not supported through the API: use kubectl exec";
const SERVICE_APIS = "tsuru service APIs (brokers with endpoints and passwords) are not how Berth provides services: its catalog is ServiceClass objects (kubectl apply -f)";
const NO_MAIL = "Berth sends no e-mail: an administrator resets a password by deleting the user's password Secret and the user registers again, or the user changes it with PUT /users/password";
const QUOTA = "Berth bounds resources with plans and pool quotas; team app counts are set with PUT /teams/{name}/quota";

export const machineryPaths: MachineryPath[] = [
  ["GET", "/{provisioner}/node", NODES],
  ["PUT", "/{provisioner}/node", NODES],
  ["POST", "/node", NODES],
  ["GET", "/node/{address}", NODES],
  ["DELETE", "/{provisioner}/node/{address}", NODES],
  ["GET", "/{provisioner}/node/{address}/containers", NODES],
  ["POST", "/node/status", NODES],
  ["POST", "/node/rebalance", "Kubernetes' scheduler places pods; Berth does not rebalance units by hand"],
  ["GET", "/docker/nodecontainers", DOCKER],
  ["POST", "/docker/nodecontainers", DOCKER],
  ["GET", "/docker/nodecontainers/{name}", DOCKER],
  ["POST", "/docker/nodecontainers/{name}", DOCKER],
  ["DELETE", "/docker/nodecontainers/{name}", DOCKER],
  ["POST", "/docker/nodecontainers/{name}/upgrade", DOCKER],
  ["GET", "/docker/node/apps/{appname}/containers", DOCKER],
  ["GET", "/docker/logs", DOCKER],
  ["POST", "/docker/logs", DOCKER],
  ["POST", "/docker/container/{id}/move", DOCKER],
  ["POST", "/docker/containers/move", DOCKER],
  ["GET", "/docker/healing", HEALING],
  ["GET", "/healing/node", HEALING],
  ["POST", "/healing/node", HEALING],
  ["DELETE", "/healing/node", HEALING],
  ["GET", "/iaas/machines", IAAS],
  ["DELETE", "/iaas/machines/{machine_id}", IAAS],
  ["GET", "/iaas/templates", IAAS],
  ["POST", "/iaas/templates", IAAS],
  ["PUT", "/iaas/templates/{template_name}", IAAS],
  ["DELETE", "/iaas/templates/{template_name}", IAAS],
  ["GET", "/install/hosts", IAAS],
  ["POST", "/install/hosts", IAAS],
  ["GET", "/install/hosts/{name}", IAAS],
  ["GET", "/autoscale", AUTOSCALE_NODES],
  ["POST", "/autoscale/run", AUTOSCALE_NODES],
  ["GET", "/autoscale/config", AUTOSCALE_NODES],
  ["GET", "/autoscale/rules", AUTOSCALE_NODES],
  ["POST", "/autoscale/rules", AUTOSCALE_NODES],
  ["DELETE", "/autoscale/rules/{id}", AUTOSCALE_NODES],
  ["GET", "/provisioner", PROVISIONER],
  ["GET", "/provisioner/clusters", PROVISIONER],
  ["POST", "/provisioner/clusters", PROVISIONER],
  ["GET", "/provisioner/clusters/{name}", PROVISIONER],
  ["POST", "/provisioner/clusters/{name}", PROVISIONER],
  ["DELETE", "/provisioner/clusters/{name}", PROVISIONER],
  ["POST", "/platforms/{name}/rollback", PLATFORMS],
  ["POST", "/apps/{appname}/build", PLATFORMS],
  ["POST", "/apps/{app}/deploy/rebuild", PLATFORMS],
  ["POST", "/apps/{appname}/diff", PLATFORMS],
  ["GET", "/routers", ROUTERS],
  ["POST", "/routers", ROUTERS],
  ["PUT", "/routers/{name}", ROUTERS],
  ["DELETE", "/routers/{name}", ROUTERS],
  ["GET", "/app/{app}/routers", ROUTERS],
  ["POST", "/app/{app}/routers", ROUTERS],
  ["PUT", "/app/{app}/routers/{name}", ROUTERS],
  ["DELETE", "/app/{app}/routers/{router}", ROUTERS],
  ["POST", "/app/{app}/routable", ROUTERS],
  ["POST", "/apps/{app}/routes", ROUTERS],
  ["POST", "/swap", ROUTERS],
  ["GET", "/volumeplans", VOLUMES],
  ["GET", "/volumes", VOLUMES],
  ["POST", "/volumes", VOLUMES],
  ["GET", "/volumes/{name}", VOLUMES],
  ["POST", "/volumes/{name}", VOLUMES],
  ["DELETE", "/volumes/{name}", VOLUMES],
  ["POST", "/volumes/{name}/bind", VOLUMES],
  ["DELETE", "/volumes/{name}/bind", VOLUMES],
  ["GET", "/brokers", BROKERS],
  ["POST", "/brokers", BROKERS],
  ["PUT", "/brokers/{broker}", BROKERS],
  ["DELETE", "/brokers/{broker}", BROKERS],
  ["GET", "/apps/{name}/shell", SHELL],
  ["GET", "/debug/goroutines", "Berth is not written in Go; use /metrics for the process's state"],
  ["GET", "/auth/saml", "Berth supports the native login scheme only (GET /auth/scheme)"],
  ["POST", "/auth/saml", "Berth supports the native login scheme only (GET /auth/scheme)"],
  ["POST", "/apps/{app}/units/register", "Units are pods that register themselves with Kubernetes"],
  ["POST", "/apps/{app}/units/{unit}", "Unit status comes from the pod's status in Kubernetes"],
  ["POST", "/apps/{app}/log", "Units log to standard output and Kubernetes collects it; there is nothing to post"],
  ["GET", "/apps/{app}/metric/envs", "Berth does not configure a metrics backend for apps; scrape the pods with your own monitoring"],
  ["PUT", "/apps/{app}/deploy/rollback/update", "Every release can be rolled back to while it is kept (releaseHistoryLimit); there is no per-image switch"],
  ["GET", "/events/blocks", "Event blocks are not supported: lock an app (POST /apps/{app}/lock) to stop changes to it"],
  ["POST", "/events/blocks", "Event blocks are not supported: lock an app (POST /apps/{app}/lock) to stop changes to it"],
  ["DELETE", "/events/blocks/{uuid}", "Event blocks are not supported: lock an app (POST /apps/{app}/lock) to stop changes to it"],
  ["POST", "/events/{uuid}/cancel", "Berth's events are finished records of releases; there is nothing running to cancel"],
  ["GET", "/events/webhooks", "Event webhooks are not supported: watch Berth's resources with the Kubernetes API instead"],
  ["GET", "/events/webhooks/{name}", "Event webhooks are not supported: watch Berth's resources with the Kubernetes API instead"],
  ["POST", "/events/webhooks", "Event webhooks are not supported: watch Berth's resources with the Kubernetes API instead"],
  ["PUT", "/events/webhooks/{name}", "Event webhooks are not supported: watch Berth's resources with the Kubernetes API instead"],
  ["DELETE", "/events/webhooks/{name}", "Event webhooks are not supported: watch Berth's resources with the Kubernetes API instead"],
  ["POST", "/roles/{name}/group", "Berth has no user groups: assign roles to users or team tokens"],
  ["DELETE", "/roles/{name}/group/{group_name}", "Berth has no user groups: assign roles to users or team tokens"],
  ["POST", "/users/{email}/password", NO_MAIL],
  ["PUT", "/apps/{app}/quota", QUOTA],
  ["PUT", "/users/{email}/quota", QUOTA],
  ["POST", "/services", SERVICE_APIS],
  ["PUT", "/services/{name}", SERVICE_APIS],
  ["DELETE", "/services/{name}", SERVICE_APIS],
  ["PUT", "/services/{name}/doc", SERVICE_APIS],
  ["PUT", "/services/{service}/team/{team}", SERVICE_APIS],
  ["DELETE", "/services/{service}/team/{team}", SERVICE_APIS],
  ["*", "/services/proxy/service/{service}", SERVICE_APIS],
  ["*", "/services/{service}/proxy/{instance}", SERVICE_APIS],
].map(([method, path, reason]) => ({ method: method as string, path: path as string, reason: reason as string }));

const JOBS = "tsuru jobs are not supported by Berth yet: run one-off commands with tsuru app run, or schedule work with a Kubernetes CronJob (kubectl)";
const CERT_ISSUER = "Certificate issuers are not configured through Berth yet: set a certificate with tsuru certificate set, or annotate the app's Ingress for cert-manager with kubectl";

/**
 * Paths the tsuru CLI 1.34 calls that are not in the documented endpoint list (newer server
 * versions, or different spellings): answered the same way, 501 with the reason.
 */
export const cliMachineryPaths: MachineryPath[] = [
  ["PUT", "/apps/{app}/certissuer", CERT_ISSUER],
  ["DELETE", "/apps/{app}/certissuer", CERT_ISSUER],
  ["GET", "/apps/{app}/routers", ROUTERS],
  ["POST", "/apps/{app}/routers", ROUTERS],
  ["PUT", "/apps/{app}/routers/{router}", ROUTERS],
  ["DELETE", "/apps/{app}/routers/{router}", ROUTERS],
  ["POST", "/apps/{app}/routable", ROUTERS],
  ["POST", "/apps/{app}/units/autoscale/swap", "Autoscaling is one HPA per app in Berth: change it with tsuru unit autoscale set"],
  ["GET", "/jobs", JOBS],
  ["POST", "/jobs", JOBS],
  ["GET", "/jobs/{name}", JOBS],
  ["PUT", "/jobs/{name}", JOBS],
  ["DELETE", "/jobs/{name}", JOBS],
  ["POST", "/jobs/{name}/trigger", JOBS],
  ["GET", "/jobs/{name}/log", JOBS],
  ["POST", "/jobs/{name}/deploy", JOBS],
  ["GET", "/jobs/{name}/env", JOBS],
  ["POST", "/jobs/{name}/env", JOBS],
  ["DELETE", "/jobs/{name}/env", JOBS],
  ["DELETE", "/jobs/{name}/units/{unit}", JOBS],
].map(([method, path, reason]) => ({ method: method as string, path: path as string, reason: reason as string }));
