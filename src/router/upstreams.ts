// One keep-alive agent per upstream endpoint ("ip:port"), so connections to a pod are reused
// across requests and a slow pod cannot starve the others' pools. Agents of endpoints that
// left every route are closed by sweep() once they have no request in flight.
import http from "node:http";
import type { Endpoint } from "./endpoints.ts";

export interface UpstreamPoolOptions {
  /** Idle connections kept per endpoint. */
  maxFreeSockets: number;
  /** Idle connections close after this long: below the 5 s keep-alive of common app servers. */
  idleTimeoutMs?: number;
}

export class UpstreamPool {
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly o: UpstreamPoolOptions) {}

  agentFor(ep: Endpoint): http.Agent {
    let agent = this.agents.get(ep.key);
    if (!agent) {
      agent = new http.Agent({ keepAlive: this.o.maxFreeSockets > 0, maxFreeSockets: Math.max(1, this.o.maxFreeSockets), timeout: this.o.idleTimeoutMs ?? 4000, scheduling: "lifo" });
      this.agents.set(ep.key, agent);
    }
    return agent;
  }

  /** Closes the agents of endpoints not in `live` that have nothing in flight. */
  sweep(live: ReadonlySet<string>): number {
    let closed = 0;
    for (const [key, agent] of this.agents) {
      if (live.has(key) || Object.keys(agent.sockets).length > 0) continue;
      agent.destroy();
      this.agents.delete(key);
      closed++;
    }
    return closed;
  }

  get size(): number {
    return this.agents.size;
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
