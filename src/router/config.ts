// The router's configuration: environment variables (the Helm chart sets them), overridden by
// flags of `berth router` (--port N, --listen ADDRESS (repeatable), --apps-domain D).
import { BlockList, isIP } from "node:net";
import { appsDomainOf, bool, flagValues, int, parseDuration } from "../config.ts";

export interface RouterConfig {
  /** Addresses the HTTP listener binds, all on `port`. */
  addresses: string[];
  port: number;
  metricsHost: string;
  metricsPort: number;
  /** Apps answer on `<app>.<appsDomain>` besides their own domains (cnames). */
  appsDomain: string;
  /** Time from forwarding a request to the upstream's response headers; then 504. */
  requestTimeoutMs: number;
  /** Time to open a connection to an endpoint; past it the attempt counts as a connect error. */
  connectTimeoutMs: number;
  /** Further endpoints tried after connect errors (never after a request reached an app). */
  retries: number;
  /** Upstream networks the router may connect to (CIDRs); empty allows any. */
  upstreamNetworks: string[];
  /** Idle keep-alive connections kept per endpoint. */
  idleSocketsPerEndpoint: number;
  accessLog: boolean;
  /** On SIGTERM: keep serving (readyz failing) this long so load balancers stop sending, then drain. */
  shutdownDelayMs: number;
  logLevel: string;
  /**
   * Where a sleeping App's Service points while it has no ready pod (the activator pattern):
   * this router's address as pods reach it (BERTH_ROUTER_ACTIVATOR_ADDRESS; Helm: the pod IP),
   * or every ready endpoint of the router's own Service (BERTH_ROUTER_ACTIVATOR_SERVICE,
   * "namespace/name": all replicas then write the same slice). Neither: no such slices.
   */
  activatorAddress?: string;
  activatorService?: string;
  /** The port in those slices (BERTH_ROUTER_ACTIVATOR_PORT); default the router's own port. */
  activatorPort?: number;
  /** The length of one minute of spec.idle.timeoutMinutes (BERTH_ROUTER_IDLE_MINUTE): shorter in tests. */
  idleMinuteMs: number;
}

const list = (raw: string | undefined): string[] =>
  (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** A BlockList matching the given CIDRs (or bare addresses); throws naming a bad entry. */
export function networkList(cidrs: string[], name = "BERTH_ROUTER_UPSTREAM_CIDRS"): BlockList {
  const blocks = new BlockList();
  for (const cidr of cidrs) {
    const [address = "", prefix] = cidr.split("/");
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    if (!family || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) throw new Error(`${name}: "${cidr}" is not a CIDR like 10.0.0.0/8`);
    blocks.addSubnet(address, bits, family === 6 ? "ipv6" : "ipv4");
  }
  return blocks;
}

function activatorConfig(env: NodeJS.ProcessEnv): Pick<RouterConfig, "activatorAddress" | "activatorService" | "activatorPort"> {
  const address = env.BERTH_ROUTER_ACTIVATOR_ADDRESS?.trim();
  if (address && !isIP(address)) throw new Error(`BERTH_ROUTER_ACTIVATOR_ADDRESS: "${address}" is not an IP address`);
  const service = env.BERTH_ROUTER_ACTIVATOR_SERVICE?.trim();
  if (service && !/^[a-z0-9-]+\/[a-z0-9-]+$/.test(service)) throw new Error(`BERTH_ROUTER_ACTIVATOR_SERVICE: "${service}" is not namespace/name`);
  return {
    ...(address ? { activatorAddress: address } : {}),
    ...(service ? { activatorService: service } : {}),
    ...(env.BERTH_ROUTER_ACTIVATOR_PORT ? { activatorPort: int(env, "BERTH_ROUTER_ACTIVATOR_PORT", 0, 1, 65535) } : {}),
  };
}

export function loadRouterConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): RouterConfig {
  const portFlag = flagValues(argv, "--port").at(-1);
  const port = portFlag !== undefined ? int({ "--port": portFlag }, "--port", 8088) : int(env, "BERTH_ROUTER_PORT", 8088);
  const addresses = flagValues(argv, "--listen").flatMap((v) => list(v));
  for (const a of addresses) if (!isIP(a)) throw new Error(`--listen: "${a}" is not an IP address`);
  const envAddresses = list(env.BERTH_ROUTER_ADDRESSES ?? "127.0.0.1");
  for (const a of envAddresses) if (!isIP(a)) throw new Error(`BERTH_ROUTER_ADDRESSES: "${a}" is not an IP address`);
  const upstreamNetworks = list(env.BERTH_ROUTER_UPSTREAM_CIDRS);
  networkList(upstreamNetworks);
  const appsDomain = appsDomainOf(flagValues(argv, "--apps-domain").at(-1) ?? env.BERTH_APPS_DOMAIN);
  return {
    addresses: addresses.length ? addresses : envAddresses,
    port,
    metricsHost: env.BERTH_ROUTER_METRICS_HOST ?? "127.0.0.1",
    metricsPort: int(env, "BERTH_ROUTER_METRICS_PORT", 8089),
    appsDomain,
    requestTimeoutMs: parseDuration(env.BERTH_ROUTER_REQUEST_TIMEOUT ?? "60s", "BERTH_ROUTER_REQUEST_TIMEOUT"),
    connectTimeoutMs: parseDuration(env.BERTH_ROUTER_CONNECT_TIMEOUT ?? "3s", "BERTH_ROUTER_CONNECT_TIMEOUT"),
    retries: int(env, "BERTH_ROUTER_RETRIES", 2, 0, 10),
    upstreamNetworks,
    idleSocketsPerEndpoint: int(env, "BERTH_ROUTER_IDLE_SOCKETS", 64, 0, 10_000),
    accessLog: bool(env, "BERTH_ROUTER_ACCESS_LOG", true),
    shutdownDelayMs: parseDuration(env.BERTH_ROUTER_SHUTDOWN_DELAY ?? "0s", "BERTH_ROUTER_SHUTDOWN_DELAY"),
    logLevel: env.BERTH_LOG_LEVEL ?? "info",
    ...activatorConfig(env),
    idleMinuteMs: parseDuration(env.BERTH_ROUTER_IDLE_MINUTE ?? "60s", "BERTH_ROUTER_IDLE_MINUTE"),
  };
}
