// Request-driven start and idle sleep: the activator's choices and the idle decision.
import { expect } from "chai";
import type { IncomingMessage } from "node:http";
import type { App } from "../../../src/model/kinds.ts";
import type { AppActivitySnapshot } from "../../../src/router/activity.ts";
import type { Endpoint } from "../../../src/router/endpoints.ts";
import type { Route } from "../../../src/router/routing-table.ts";
import { appsToSleep, recordedLastRequest, wakeActivator } from "../../../src/router/wake.ts";

const app = (name: string, spec: Partial<App["spec"]> = {}): App => ({ metadata: { name, namespace: "ns" }, spec: { image: "i", processes: [{ name: "web" }], ...spec } });
const route = (name: string) => ({ key: `ns/${name}`, namespace: "ns", app: name }) as unknown as Route;
const endpoint = { address: "10.0.0.1", port: 8080 } as unknown as Endpoint;

describe("wake (scale from zero, idle sleep)", () => {
  const setup = (apps: App[]) => {
    const states: string[] = [];
    const activator = wakeActivator({
      app: (key) => apps.find((a) => `ns/${a.metadata.name}` === key),
      setState: async (a, s) => {
        states.push(`${a.metadata.name}=${s}`);
      },
      waitForEndpoints: async () => [endpoint],
    });
    return { states, activator };
  };
  const req = {} as IncomingMessage;

  it("a request for a Sleeping App sets it Running and is held until an endpoint is ready", async () => {
    const { states, activator } = setup([app("a", { state: "Sleeping" })]);
    expect(await activator.activate(route("a"), req, new AbortController().signal)).to.deep.equal([endpoint]);
    expect(states).to.deep.equal(["a=Running"]);
  });

  it("a Stopped App is not woken (503 at once); a Running one waits for its pods without a write", async () => {
    const { states, activator } = setup([app("s", { state: "Stopped" }), app("r")]);
    expect(await activator.activate(route("s"), req, new AbortController().signal)).to.deep.equal([]);
    expect(await activator.activate(route("r"), req, new AbortController().signal)).to.deep.equal([endpoint]);
    expect(states).to.deep.equal([]);
  });

  it("idle: only running Apps with a timeout, nothing in flight, quiet for the timeout since the later of last request and router start", () => {
    const min = 60_000;
    const acts: Record<string, AppActivitySnapshot> = {
      "ns/quiet": { inFlight: 0, lastRequestAt: 0, total: 3 },
      "ns/busy": { inFlight: 1, lastRequestAt: 0, total: 9 },
      "ns/recent": { inFlight: 0, lastRequestAt: 100 * min - 30_000, total: 1 },
    };
    const activity = (k: string) => acts[k] ?? { inFlight: 0, lastRequestAt: 0, total: 0 };
    const apps = [
      app("quiet", { idle: { timeoutMinutes: 5 } }),
      app("busy", { idle: { timeoutMinutes: 5 } }),
      app("recent", { idle: { timeoutMinutes: 5 } }),
      app("never", { idle: { timeoutMinutes: 5 } }),
      app("noidle"),
      app("asleep", { idle: { timeoutMinutes: 5 }, state: "Sleeping" }),
    ];
    expect(appsToSleep(apps, activity, 0, 100 * min).map((a) => a.metadata.name)).to.deep.equal(["quiet", "never"]);
    // Router started 2 minutes ago: nothing has been quiet for 5 minutes by its counters.
    expect(appsToSleep(apps, activity, 98 * min, 100 * min)).to.deep.equal([]);
  });

  it("idle: a request recorded on the App (berth.dev/last-request-time, by the API's Waiter proxy) counts like one seen here", () => {
    const min = 60_000;
    const none = () => ({ inFlight: 0, lastRequestAt: 0, total: 0 });
    const recorded = (iso: string) => ({ ...app("waiter", { idle: { timeoutMinutes: 5 } }), metadata: { name: "waiter", namespace: "ns", annotations: { "berth.dev/last-request-time": iso } } });
    expect(recordedLastRequest(recorded(new Date(97 * min).toISOString()))).to.equal(97 * min);
    expect(appsToSleep([recorded(new Date(97 * min).toISOString())], none, 0, 100 * min)).to.deep.equal([]);
    expect(appsToSleep([recorded(new Date(94 * min).toISOString())], none, 0, 100 * min)).to.have.length(1);
    // Not a time: ignored.
    expect(appsToSleep([recorded("soon")], none, 0, 100 * min)).to.have.length(1);
  });
});
