// The manager: shared informers, controllers, leader election and the health endpoints,
// started and stopped together.
import { setMaxListeners } from "node:events";
import type { KubeClient } from "../kube/client.ts";
import type { Logger } from "../log.ts";
import type { Controller} from "./controller.ts";
import { ControllerBuilder } from "./controller.ts";
import type { HealthServer } from "./health-server.ts";
import { startHealthServer } from "./health-server.ts";
import { InformerFactory } from "./informer.ts";
import type { LeaderElectionOptions } from "./leader-election.ts";
import { LeaderElector } from "./leader-election.ts";
import type { ReflectorOptions } from "./reflector.ts";
import { EventRecorder } from "./events.ts";

export interface ManagerOptions {
  client: KubeClient;
  log: Logger;
  /** Without it, controllers run at once (single replica, tests). */
  leaderElection?: LeaderElectionOptions;
  health?: { host: string; port: number };
  reflector?: ReflectorOptions;
}

export class Manager {
  readonly informers: InformerFactory;
  readonly events: EventRecorder;
  readonly controllers: Controller[] = [];
  readonly elector?: LeaderElector;
  private health?: HealthServer;

  constructor(private readonly o: ManagerOptions) {
    this.informers = new InformerFactory(o.client, o.log, o.reflector);
    this.events = new EventRecorder(o.client, o.log);
    if (o.leaderElection) this.elector = new LeaderElector(o.client, o.leaderElection, o.log.child({ component: "leader-election" }));
  }

  get client(): KubeClient {
    return this.o.client;
  }

  controller(name: string): ControllerBuilder {
    return new ControllerBuilder(this.informers, name, this.o.log, (c) => this.controllers.push(c));
  }

  get healthPort(): number | undefined {
    return this.health?.port;
  }

  /**
   * Runs until signal aborts. With leader election, losing the lease stops the controllers
   * (at once, as controller-runtime does) and the manager campaigns again; the caches, and so
   * an API server reading them, keep running throughout.
   */
  async run(signal: AbortSignal): Promise<void> {
    setMaxListeners(0, signal); // every reflector, worker and timer listens for shutdown
    if (this.o.health) this.health = await startHealthServer(this.o.health.host, this.o.health.port, () => this.informers.hasSynced);
    this.informers.start(signal);
    const aborted = new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
    await Promise.race([this.informers.waitForSync(), aborted]);
    this.o.log.info("caches synced", { controllers: this.controllers.map((c) => c.name) });
    const runControllers = async (s: AbortSignal) => {
      await Promise.all(this.controllers.map((c) => c.run(s)));
    };
    if (!this.controllers.length) return aborted;
    if (!this.elector) return signal.aborted ? undefined : runControllers(signal);
    while (!signal.aborted) {
      if ((await this.elector.run(signal, runControllers)) === "lost") this.o.log.warn("controllers stopped after losing the lease; campaigning again");
    }
  }

  /** Stops the health server and waits for the reflectors, at most timeoutMs (a dead backend must not hang shutdown). */
  async close(timeoutMs = 5000): Promise<void> {
    await this.health?.close();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    await Promise.race([this.informers.stopped(), late]);
    clearTimeout(timer);
  }
}
