// Set-up shared by the cluster API tests: Berth with its API, a default pool, and users (each
// with a personal team, through the Deis dialect: the cluster API has no users of its own).
import { expect } from "chai";
import type { Pool } from "../../../src/model/kinds.ts";
import { BerthTypes } from "../../../src/model/kinds.ts";
import type { RunningBerth } from "./berth.ts";
import { startBerth } from "./berth.ts";
import { call } from "./http.ts";

/** poolSpec: the default pool's (e.g. one on the real node group). */
export async function startClusterApi(pool: string, users: string[], poolSpec: Pool["spec"] = {}): Promise<{ berth: RunningBerth; tokens: Record<string, string> }> {
  const berth = await startBerth({ api: true });
  await berth.client.create<Pool>(BerthTypes.Pool, { metadata: { name: pool }, spec: { ...poolSpec, default: true, public: true } });
  const tokens: Record<string, string> = {};
  for (const u of users) {
    expect((await call(berth.apiURL, "POST", "/v1/auth/register", { json: { username: u, password: "opensesame", email: `${u}@example.com` } })).status).to.equal(201);
    tokens[u] = (await call(berth.apiURL, "POST", "/v1/auth/login", { json: { username: u, password: "opensesame" } })).json<{ token: string }>().token;
  }
  return { berth, tokens };
}
