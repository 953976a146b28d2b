// `berth git [--port N] [--listen ADDRESS]`
import { KubeClient } from "../kube/client.ts";
import { createLogger } from "../log.ts";
import { loadGitConfig } from "./config.ts";
import { startGit } from "./start.ts";

export async function gitCommand(argv: string[]): Promise<number> {
  const config = loadGitConfig(argv);
  const log = createLogger(config.logLevel);
  const client = await KubeClient.create();
  const git = await startGit({ client, log }, config);
  await new Promise<void>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve());
  });
  log.info("git endpoint stopping: no new connections; pushes under way finish");
  await git.close();
  client.close();
  return 0;
}
