// What each Berth process may do in the Kubernetes API, as data: the Helm chart's RBAC
// (helm/berth/templates/rbac.yaml) renders exactly these rules, and a test
// (test/integration/helm/rbac.test.ts) holds the two together. Each rule names the code that
// needs it; a verb no code uses is not granted.
//
// Facts the table relies on:
// - an informer (src/runtime/reflector.ts) is list + watch;
// - server-side apply (client.apply) is a PATCH, and creating an object that does not exist yet
//   through it needs `create` as well as `patch` (checked against kube-apiserver 1.35);
// - client.replace is a PUT (`update`), used only for the leader-election Lease.

export type Component = "controllers" | "api" | "router" | "git";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete";

/**
 * Where a rule applies:
 * - cluster: a ClusterRole bound cluster-wide;
 * - release: a Role in Berth's own namespace (the Helm release's);
 * - appNamespaces: Secrets of apps and service instances. Cluster-wide by default (pools create
 *   their namespaces at run time and Apps may be created with kubectl in any namespace); with
 *   the chart's rbac.secretNamespaces, a RoleBinding in each listed namespace instead;
 * - kube-system: one named ConfigMap, in aggregated mode only.
 */
export type Scope = "cluster" | "release" | "appNamespaces" | "kube-system";

/** A rule that exists only with a feature of the chart switched on. */
export type Feature = "leaderElection" | "aggregation";

export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: Verb[];
  resourceNames?: string[];
  scope: Scope;
  when?: Feature;
  /** Which code needs it. */
  reason: string;
}

const BERTH = "berth.dev";
const CORE = "";

/** The git endpoint's SSH host key, made at first start (src/git/host-key.ts). */
export const GIT_HOST_KEY_SECRET = "berth-git-host-key";
/** The leader-election Lease's name (src/main.ts). */
export const LEASE_NAME = "berth-controller";
/** What kube-apiserver publishes for extension API servers (src/api/identity/front-proxy.ts). */
export const FRONT_PROXY_CONFIGMAP = "extension-apiserver-authentication";

const rule = (scope: Scope, apiGroup: string, resource: string, verbs: Verb[], reason: string, extra: Partial<Rule> = {}): Rule => ({
  apiGroups: [apiGroup],
  resources: [resource],
  verbs,
  scope,
  reason,
  ...extra,
});

export const RBAC: Record<Component, Rule[]> = {
  // berth run --no-api: src/controllers/, src/reconcilers/, src/runtime/ (leader election, events).
  controllers: [
    rule("cluster", BERTH, "apps", ["get", "list", "watch", "create", "patch", "delete"], "App controller's primary cache; service-instance controller maps bindings to instances; the ClusterSettings controller creates, updates (get: re-read on conflict) and deletes a team's jobs"),
    rule("cluster", BERTH, "apps/status", ["patch"], "App status by server-side apply (runtime/status.ts)"),
    rule("cluster", BERTH, "releases", ["list", "watch", "create", "delete"], "a Release per content change, old ones pruned (reconcilers/app.ts)"),
    rule("cluster", BERTH, "pools", ["list", "watch"], "Pool controller's primary cache; apps' placement and admission"),
    rule("cluster", BERTH, "pools/status", ["patch"], "Pool status by server-side apply"),
    rule("cluster", BERTH, "plans", ["list", "watch"], "apps' plans (admission, resources)"),
    rule("cluster", BERTH, "tokens", ["list", "watch"], "Token controller's primary cache"),
    rule("cluster", BERTH, "tokens/status", ["patch"], "Token status (hash, expiry) by server-side apply"),
    rule("cluster", BERTH, "serviceinstances", ["list", "watch", "patch"], "service-instance controller's cache; merge patch of its bound-apps finalizer"),
    rule("cluster", BERTH, "serviceinstances/status", ["patch"], "ServiceInstance status by server-side apply"),
    rule("cluster", BERTH, "serviceclasses", ["list", "watch"], "classes of bound and reconciled instances"),
    rule("cluster", BERTH, "teams", ["list", "watch"], "Team controller's primary cache"),
    rule("cluster", BERTH, "clustersettings", ["list", "watch"], "ClusterSettings controller's primary cache (reconcilers/cluster-settings.ts)"),
    rule("cluster", BERTH, "clustersettings/status", ["patch"], "ClusterSettings Ready condition by server-side apply"),
    rule("cluster", BERTH, "teams/status", ["patch"], "a Team's organization id (the cloud API) by server-side apply (reconcilers/team.ts)"),
    rule("cluster", CORE, "namespaces", ["create", "patch"], "each Pool's namespace by server-side apply (reconcilers/pool.ts)"),
    rule("cluster", CORE, "resourcequotas", ["list", "watch", "create", "patch", "delete"], "a Pool's quota applied, or deleted when the Pool sets none"),
    rule("cluster", CORE, "limitranges", ["list", "watch", "create", "patch"], "a Pool's default container requests"),
    rule("cluster", CORE, "services", ["list", "watch", "create", "patch", "delete"], "process and instance Services applied; those of removed processes deleted"),
    rule("cluster", CORE, "pods", ["list", "watch"], "Berth's pending pods (field selector): an App's status names an image that cannot be pulled; a service instance's pods (idle scaling)"),
    rule("cluster", CORE, "pods/proxy", ["get"], "idle scaling: how long a service instance's pods have been unused, on its class's activityPath (reconcilers/service-instance.ts)"),
    rule("cluster", CORE, "events", ["create", "patch"], "Events on Apps, repeats counted by merge patch (runtime/events.ts)"),
    rule("cluster", "apps", "deployments", ["get", "list", "watch", "create", "patch", "delete"], "process and instance workloads applied, pruned; an instance's read for readiness"),
    rule("cluster", "apps", "statefulsets", ["get", "list", "watch", "create", "patch"], "instances of StatefulSet classes applied and read for readiness"),
    rule("cluster", "autoscaling", "horizontalpodautoscalers", ["get", "list", "watch", "create", "patch", "delete"], "an App's autoscaling; an instance's from its memory bounds, read before removing one it no longer needs"),
    rule("cluster", "policy", "poddisruptionbudgets", ["list", "watch", "create", "patch", "delete"], "a PDB per process with more than one unit"),
    rule("cluster", "networking.k8s.io", "ingresses", ["list", "watch", "create", "patch", "delete"], "an App's domains and TLS"),
    rule("cluster", "networking.k8s.io", "networkpolicies", ["create", "patch"], "an instance's IP access list (applied, not cached)"),
    rule("cluster", "batch", "cronjobs", ["get", "create", "patch", "delete"], "an instance's backup CronJob applied, or read and deleted when its class stops configuring backups"),
    rule("appNamespaces", CORE, "secrets", ["get", "list", "watch", "create", "patch"], "release env Secrets created; private env and instance credentials read; credentials applied; token values created; labelled Secrets watched to re-reconcile"),
    rule("release", CORE, "secrets", ["get", "list", "watch", "create"], "the value of a Token made with kubectl in Berth's namespace (reconcilers/token.ts); a cache of the cluster API's team secrets, which jobs name (reconcilers/cluster-settings.ts)"),
    rule("appNamespaces", CORE, "configmaps", ["create", "patch"], "the loggers ConfigMap of a cluster job: the team's default levels merged in (reconcilers/job-loggers.ts)"),
    rule("release", "coordination.k8s.io", "leases", ["create"], "leader election: the first candidate creates the Lease", { when: "leaderElection" }),
    rule("release", "coordination.k8s.io", "leases", ["get", "update"], "leader election: read and renew the Lease (a PUT with resourceVersion, compare-and-swap)", { when: "leaderElection", resourceNames: [LEASE_NAME] }),
  ],
  // berth run --no-controllers: src/api/. Reads come from caches; writes are Berth CRs, Secrets,
  // and the few operations a dialect asks of Kubernetes itself.
  api: [
    rule("cluster", BERTH, "apps", ["get", "list", "watch", "create", "patch", "delete"], "apps by every dialect; get re-reads an App under optimistic concurrency (kube/optimistic.ts)"),
    rule("cluster", BERTH, "releases", ["list", "watch", "delete"], "versions and deploy lists; tsuru's version removal"),
    rule("cluster", BERTH, "pools", ["list", "watch", "create", "patch", "delete"], "tsuru pool management"),
    rule("cluster", BERTH, "plans", ["list", "watch", "create", "delete"], "tsuru plan management"),
    rule("cluster", BERTH, "teams", ["list", "watch", "create", "patch", "delete"], "teams (tsuru teams, Deis personal teams)"),
    rule("cluster", BERTH, "users", ["list", "watch", "create", "patch", "delete"], "users: registration, roles, keys, admin"),
    rule("cluster", BERTH, "roles", ["list", "watch", "create", "patch", "delete"], "tsuru roles"),
    rule("cluster", BERTH, "serviceclasses", ["list", "watch"], "the service catalog"),
    rule("cluster", BERTH, "serviceinstances", ["get", "list", "watch", "create", "patch", "delete"], "tsuru service instances and cloud services; get re-reads one under optimistic concurrency"),
    rule("cluster", BERTH, "platforms", ["list", "watch", "create", "patch", "delete"], "tsuru platform add/update/remove; source deploys read their platform (api/apps/source.ts)"),
    rule("cluster", BERTH, "builds", ["create"], "a Build record for each source deploy (api/apps/source.ts)"),
    rule("cluster", CORE, "namespaces", ["get"], "a new App waits for its pool's namespace (api/apps/store.ts)"),
    rule("cluster", CORE, "pods", ["list", "watch", "delete"], "units from a cache of Berth's pods; a run's pod by job-name; tsuru unit kill, Deis ps:restart TYPE.NUM"),
    rule("cluster", CORE, "pods/log", ["get"], "tsuru app log, Deis logs, a run's output"),
    rule("cluster", "apps", "deployments", ["patch"], "tsuru app restart, Deis ps:restart: an annotation on the pod template"),
    rule("cluster", BERTH, "clustersettings", ["get", "list", "watch", "create", "patch"], "the cluster API: a team's settings, log definitions, loggers and event definitions"),
    rule("appNamespaces", CORE, "configmaps", ["get", "create", "patch"], "the cluster API: the loggers ConfigMap of a job, mounted into its pods"),
    rule("cluster", CORE, "events", ["list", "watch"], "the cluster API's events results: a cache of Events about the caller's jobs"),
    rule("cluster", "batch", "jobs", ["create", "get", "list", "watch"], "one-off commands (Deis run, tsuru app run) and their outcome; a cache of backup Jobs (the cloud API's backups)"),
    rule("release", BERTH, "tokens", ["list", "watch", "create", "patch", "delete"], "API credentials: only Tokens in Berth's namespace are believed"),
    rule("release", BERTH, "waitertokens", ["get", "list", "watch", "create", "update", "delete"], "Waiter tokens (api/waiter/token-store.ts): update is a compare-and-swap replace, Waiter's If-Match"),
    rule("release", CORE, "secrets", ["get", "list", "watch", "create", "patch", "delete"], "password hashes and token values; the cluster API's team secrets (a cache of them, deleted by DELETE /secrets/secret/{ID})"),
    rule("release", CORE, "configmaps", ["create"], "the administrator marker berth-bootstrap-admin, claimed by an atomic create"),
    rule("appNamespaces", CORE, "secrets", ["get", "create", "patch", "delete"], "an App's private env and TLS certificate (tsuru certificate, Deis certs); release env read for env get"),
    rule("kube-system", CORE, "configmaps", ["get"], "aggregated mode: the front proxy's client CA", { when: "aggregation", resourceNames: [FRONT_PROXY_CONFIGMAP] }),
  ],
  // berth router (src/router/, helm/berth/templates/router.yaml): routes by Host from its caches;
  // its writes are an App's spec.state (scale to zero: Sleeping when idle, Running on a request)
  // and its own EndpointSlices that point a sleeping App's Service at the router.
  router: [
    rule("cluster", BERTH, "apps", ["list", "watch", "patch"], "hosts to apps (names and domains); scale to zero sets spec.state"),
    rule("cluster", "discovery.k8s.io", "endpointslices", ["list", "watch", "create", "patch", "delete"], "apps to the ready endpoints of their Services; a sleeping App's Service pointed at the router by server-side apply, and back (router/sleeping-endpoints.ts)"),
    rule("cluster", CORE, "services", ["list", "watch"], "a sleeping App's Service ports and ClusterIP (router/watch-routes.ts, sleeping-slice.ts)"),
  ],
  // berth git (src/git/, helm/berth/templates/git.yaml): Deis git push over SSH. Reads from caches;
  // writes what a source deploy writes (api/apps/source.ts): a Build, the App's image and processes.
  git: [
    rule("cluster", BERTH, "apps", ["list", "watch", "patch"], "the app a push names; its new image and processes after the build (api/apps/source.ts)"),
    rule("cluster", BERTH, "releases", ["list", "watch"], "the next release version (api/apps/store.ts)"),
    rule("cluster", BERTH, "users", ["list", "watch"], "users' SSH keys from Deis /v1/keys, and their teams (who may push)"),
    rule("cluster", BERTH, "platforms", ["list", "watch"], "the platform a push builds on"),
    rule("cluster", BERTH, "builds", ["create"], "a Build record for each push"),
    rule("release", CORE, "secrets", ["create"], "the SSH host key, made at first start (git/host-key.ts)"),
    rule("release", CORE, "secrets", ["get"], "the SSH host key every replica presents", { resourceNames: [GIT_HOST_KEY_SECRET] }),
  ],
};

/** One granted permission: the unit the chart test compares. */
export interface Grant {
  apiGroup: string;
  resource: string;
  verb: Verb;
  resourceName?: string;
}

export const grantKey = (g: Grant): string => `${g.apiGroup || "core"}/${g.resource}:${g.verb}${g.resourceName ? `@${g.resourceName}` : ""}`;

/** Every (group, resource, verb, name) a list of rules grants, as sorted keys. */
export function grants(rules: readonly Pick<Rule, "apiGroups" | "resources" | "verbs" | "resourceNames">[]): string[] {
  const out = new Set<string>();
  for (const r of rules)
    for (const apiGroup of r.apiGroups)
      for (const resource of r.resources)
        for (const verb of r.verbs)
          for (const resourceName of r.resourceNames?.length ? r.resourceNames : [undefined]) out.add(grantKey({ apiGroup, resource, verb, resourceName }));
  return [...out].sort();
}

/** The rules of a component that apply with the given features switched on. */
export function rulesOf(component: Component, features: readonly Feature[]): Rule[] {
  return RBAC[component].filter((r) => !r.when || features.includes(r.when));
}
