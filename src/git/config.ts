// The git endpoint's configuration: environment variables (the Helm chart sets them),
// overridden by flags of `berth git` (--port N, --listen ADDRESS).
import { tmpdir } from "node:os";
import { isIP } from "node:net";
import { appsDomainOf, flagValues, int, parseDuration } from "../config.ts";

export interface GitConfig {
  /** Address the SSH server binds. */
  address: string;
  /** SSH port (Deis' was 2222; the CLI's git:remote points there). */
  port: number;
  metricsHost: string;
  metricsPort: number;
  /** Berth's own namespace: the host key's Secret. */
  namespace: string;
  /** A mounted private host key (OpenSSH format); unset: the Secret berth-git-host-key. */
  hostKeyFile?: string;
  /** For the URL printed after a push: <app>.<appsDomain> through the router. */
  appsDomain: string;
  /** Where each push's temporary repository lives (deleted after the push). */
  tmpDir: string;
  /** How long a push waits for the new release's units to be ready. */
  rolloutTimeoutMs: number;
  logLevel: string;
}

export function loadGitConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): GitConfig {
  const portFlag = flagValues(argv, "--port").at(-1);
  const port = portFlag !== undefined ? int({ "--port": portFlag }, "--port", 2222) : int(env, "BERTH_GIT_PORT", 2222);
  const address = flagValues(argv, "--listen").at(-1) ?? env.BERTH_GIT_ADDRESS ?? "127.0.0.1";
  if (!isIP(address)) throw new Error(`BERTH_GIT_ADDRESS / --listen: "${address}" is not an IP address`);
  return {
    address,
    port,
    metricsHost: env.BERTH_GIT_METRICS_HOST ?? "127.0.0.1",
    metricsPort: int(env, "BERTH_GIT_METRICS_PORT", 8092),
    namespace: env.BERTH_NAMESPACE ?? "berth-system",
    ...(env.BERTH_GIT_HOST_KEY_FILE ? { hostKeyFile: env.BERTH_GIT_HOST_KEY_FILE } : {}),
    appsDomain: appsDomainOf(env.BERTH_APPS_DOMAIN),
    tmpDir: env.BERTH_GIT_TMPDIR || tmpdir(),
    rolloutTimeoutMs: parseDuration(env.BERTH_GIT_ROLLOUT_TIMEOUT ?? "120s", "BERTH_GIT_ROLLOUT_TIMEOUT"),
    logLevel: env.BERTH_LOG_LEVEL ?? "info",
  };
}
