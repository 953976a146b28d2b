// Process configuration, from environment variables (the Helm chart sets them) and flags.
import { hostname } from "node:os";

export interface Config {
  /** Run the controllers (leader-elected). */
  controllers: boolean;
  /** Serve the PaaS API dialects. */
  api: boolean;
  apiPort: number;
  apiHost: string;
  metricsPort: number;
  metricsHost: string;
  logLevel: string;
  concurrency: number;
  leaderElect: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Namespace of Berth's own objects (the leader-election Lease). */
  namespace: string;
  /**
   * Namespaces whose Secrets the controllers watch (BERTH_SECRET_NAMESPACES, comma-separated),
   * when RBAC grants Secrets only there; empty: cluster-wide.
   */
  secretNamespaces: string[];
  /** The e-mail that becomes administrator when it registers (unset: the first user to register). */
  bootstrapAdmin?: string;
  /**
   * How long a minute of a service's idleTimeoutMinutes lasts (BERTH_SERVICE_IDLE_MINUTE, default
   * 1m): a test knob, so idle scaling can be seen in seconds while the API keeps its 5-minute minimum.
   */
  serviceIdleMinuteMs: number;
  /** This replica's identity in leader election. */
  identity: string;
  /** Aggregated mode (an APIService): TLS port and serving certificate; off when port is 0. */
  aggregation: { port: number; certFile: string; keyFile: string; group: string; version: string };
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "15s", "500ms", "2m" into milliseconds. */
export function parseDuration(value: string, name: string): number {
  const m = DURATION.exec(value.trim());
  if (!m) throw new Error(`${name}: "${value}" is not a duration like 15s, 500ms or 2m`);
  return Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 1000);
}

export function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max = 65535): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: "${raw}" must be an integer in [${min}, ${max}]`);
  return n;
}

export function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (["1", "true", "yes"].includes(raw)) return true;
  if (["0", "false", "no"].includes(raw)) return false;
  throw new Error(`${name}: "${env[name]}" must be true or false`);
}

/** The values of a repeatable flag: `--listen a --listen b` or `--listen=a`. */
export function flagValues(argv: string[], name: string): string[] {
  const out: string[] = [];
  argv.forEach((arg, i) => {
    if (arg === name && argv[i + 1] !== undefined) out.push(argv[i + 1] ?? "");
    else if (arg.startsWith(`${name}=`)) out.push(arg.slice(name.length + 1));
  });
  return out;
}

/** The domain apps answer on through the router (<app>.<domain>): BERTH_APPS_DOMAIN, default berth.localhost. */
export function appsDomainOf(raw: string | undefined): string {
  const domain = (raw ?? "berth.localhost").toLowerCase().replace(/^\.+|\.+$/g, "");
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(domain)) throw new Error(`BERTH_APPS_DOMAIN: "${domain}" is not a DNS name`);
  return domain;
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const leaseDurationMs = parseDuration(env.BERTH_LEASE_DURATION ?? "15s", "BERTH_LEASE_DURATION");
  const renewDeadlineMs = parseDuration(env.BERTH_RENEW_DEADLINE ?? "10s", "BERTH_RENEW_DEADLINE");
  const retryPeriodMs = parseDuration(env.BERTH_RETRY_PERIOD ?? "2s", "BERTH_RETRY_PERIOD");
  if (renewDeadlineMs >= leaseDurationMs) throw new Error("BERTH_RENEW_DEADLINE must be shorter than BERTH_LEASE_DURATION");
  return {
    controllers: !argv.includes("--no-controllers"),
    api: !argv.includes("--no-api"),
    apiPort: int(env, "BERTH_API_PORT", 8080),
    apiHost: env.BERTH_API_HOST ?? "0.0.0.0",
    metricsPort: int(env, "BERTH_METRICS_PORT", 8081),
    metricsHost: env.BERTH_METRICS_HOST ?? "0.0.0.0",
    logLevel: env.BERTH_LOG_LEVEL ?? "info",
    concurrency: int(env, "BERTH_CONCURRENCY", 4, 1, 64),
    leaderElect: bool(env, "BERTH_LEADER_ELECT", true),
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    namespace: env.BERTH_NAMESPACE ?? "berth-system",
    secretNamespaces: (env.BERTH_SECRET_NAMESPACES ?? "").split(",").map((n) => n.trim()).filter(Boolean),
    bootstrapAdmin: env.BERTH_ADMIN_EMAIL || undefined,
    serviceIdleMinuteMs: parseDuration(env.BERTH_SERVICE_IDLE_MINUTE ?? "1m", "BERTH_SERVICE_IDLE_MINUTE"),
    identity: env.BERTH_POD_NAME ?? `${hostname()}-${process.pid}`,
    aggregation: {
      port: int(env, "BERTH_AGGREGATION_PORT", 0),
      certFile: env.BERTH_TLS_CERT_FILE ?? "/var/run/berth/tls/tls.crt",
      keyFile: env.BERTH_TLS_KEY_FILE ?? "/var/run/berth/tls/tls.key",
      group: env.BERTH_API_GROUP ?? "api.berth.dev",
      version: env.BERTH_API_VERSION ?? "v1alpha1",
    },
  };
}
