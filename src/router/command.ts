// `berth router [--port N] [--listen ADDRESS]... [--apps-domain DOMAIN]`
import { KubeClient } from "../kube/client.ts";
import { createLogger } from "../log.ts";
import { loadRouterConfig } from "./config.ts";
import { startRouter } from "./start.ts";

export async function routerCommand(argv: string[]): Promise<number> {
  const config = loadRouterConfig(argv);
  const log = createLogger(config.logLevel);
  const client = await KubeClient.create();
  const router = await startRouter({ client, log, wake: true }, config);
  await new Promise<void>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve());
  });
  router.drain();
  log.info("router stopping: not ready any more, draining connections", { delayMs: config.shutdownDelayMs });
  await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
  await router.close();
  client.close();
  return 0;
}
