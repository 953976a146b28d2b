// berth run [--no-controllers] [--no-api]: the operator and the API server in one process.
// berth router [--port N] [--listen ADDRESS]...: the data plane (src/router/), its own process.
// berth git [--port N] [--listen ADDRESS]: the Deis git push endpoint over SSH (src/git/), its own process.
import { loadConfig } from "./config.ts";
import { KubeClient } from "./kube/client.ts";
import { createLogger } from "./log.ts";
import { Manager } from "./runtime/manager.ts";
import { apiDeps, startAggregatedApi, startApi } from "./api/start.ts";
import { setupControllers } from "./controllers/all.ts";
import { collectDefaultMetrics } from "prom-client";
import { kubeRequestMetrics } from "./runtime/metrics.ts";
import { resourceOfPath } from "./kube/request-resource.ts";

async function main(argv: string[]): Promise<number> {
  const [command = "run"] = argv;
  // Each command loads only its own room (the git endpoint's SSH library costs `berth run` ~14 MiB).
  if (command === "router") return (await import("./router/command.ts")).routerCommand(argv.slice(1));
  if (command === "git") return (await import("./git/command.ts")).gitCommand(argv.slice(1));
  if (command !== "run") {
    process.stderr.write("usage: berth run [--no-controllers] [--no-api]\n       berth router [--port N] [--listen ADDRESS]... [--apps-domain DOMAIN]\n       berth git [--port N] [--listen ADDRESS]\n");
    return 2;
  }
  const config = loadConfig(argv);
  const log = createLogger(config.logLevel);
  const client = await KubeClient.create();
  collectDefaultMetrics(); // process_resident_memory_bytes, nodejs_heap_size_used_bytes, ... at /metrics
  client.counter = { count: (verb, path) => kubeRequestMetrics.requests.inc({ verb, resource: resourceOfPath(path) }) };
  const abort = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => abort.abort());

  const manager = new Manager({
    client,
    log,
    health: { host: config.metricsHost, port: config.metricsPort },
    leaderElection: config.controllers && config.leaderElect
      ? {
          namespace: config.namespace,
          name: "berth-controller",
          identity: config.identity,
          leaseDurationMs: config.leaseDurationMs,
          renewDeadlineMs: config.renewDeadlineMs,
          retryPeriodMs: config.retryPeriodMs,
        }
      : undefined,
  });
  if (config.controllers) {
    setupControllers(manager, { namespace: config.namespace, concurrency: config.concurrency, secretNamespaces: config.secretNamespaces, serviceIdleMinuteMs: config.serviceIdleMinuteMs });
  }
  const deps = config.api ? apiDeps(manager, config.namespace, log, config.bootstrapAdmin) : undefined;
  const api = deps ? await startApi(deps, config, log) : undefined;
  const aggregated = deps && config.aggregation.port ? await startAggregatedApi(deps, { host: config.apiHost, ...config.aggregation }, log) : undefined;
  log.info("berth started", { controllers: config.controllers, api: config.api, apiPort: config.apiPort, metricsPort: config.metricsPort, server: client.server });
  await manager.run(abort.signal);
  await api?.close();
  await aggregated?.close();
  await manager.close();
  client.close();
  log.info("berth stopped");
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
