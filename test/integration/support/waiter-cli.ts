// Waiter's real CLI (PyPI waiter-client) for the tests: installed once into a cached
// virtualenv, and run against one Berth with HTTP Basic credentials, as its config file says.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const WAITER_CLI_VERSION = "1.5.7";
const VENV = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "berth", `waiter-client-${WAITER_CLI_VERSION}`);

/** The waiter executable, installing it once into the cache; undefined (with why) when it cannot be. */
export async function waiterCli(): Promise<{ bin?: string; why?: string }> {
  const bin = join(VENV, "bin", "waiter");
  if (existsSync(bin)) return { bin };
  try {
    await run("python3", ["-m", "venv", VENV], { timeout: 120_000 });
    await run(join(VENV, "bin", "pip"), ["install", "-q", `waiter-client==${WAITER_CLI_VERSION}`], { timeout: 600_000 });
    return { bin };
  } catch (e) {
    return { why: `pip could not install waiter-client==${WAITER_CLI_VERSION}: ${String(e).split("\n")[0]}` };
  }
}

/** A runner of `waiter --config <file> ...` for one user against apiURL (waiter-client waiter/http_util.py: http.auth.type "basic"). */
export function waiterRunner(bin: string, apiURL: string, email: string, password: string): (...args: string[]) => Promise<{ rc: number; out: string }> {
  const config = join(mkdtempSync(join(tmpdir(), "waiter-cli-")), "waiter.json");
  writeFileSync(config, JSON.stringify({ clusters: [{ name: "berth", url: apiURL, "default-for-create": true }], http: { auth: { type: "basic", basic: { user: email, pass: password } } }, metrics: { disabled: true } }));
  return async (...args: string[]) => {
    try {
      const r = await run(bin, ["--config", config, ...args], { timeout: 300_000, env: { ...process.env, USER: email } });
      return { rc: 0, out: r.stdout + r.stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return { rc: x.code ?? 1, out: (x.stdout ?? "") + (x.stderr ?? "") };
    }
  };
}
