// Who a Waiter request comes from. Waiter's CLI authenticates with HTTP Basic
// (waiter-client: waiter/http_util.py, config http.auth.type "basic"); Berth takes the Basic
// password as a Berth token when it is one, else the user name (e-mail or username) and
// password of a Berth user. Bearer tokens work as in every other dialect.
import type { FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { unauthorized } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";
import { teamsOf } from "../identity/principal.ts";
import { LoginThrottle } from "../identity/throttle.ts";

/** Wrong Basic passwords are throttled per account, as logins are. */
const throttle = new LoginThrottle(10);

/** user:password from a Basic Authorization header, or undefined. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, "base64").toString("utf8");
  const i = text.indexOf(":");
  return i < 0 ? undefined : { user: text.slice(0, i), password: text.slice(i + 1) };
}

export async function waiterCaller(deps: ApiDeps, req: FastifyRequest): Promise<Principal> {
  if (req.principal) return req.principal;
  const basic = basicCredentials(req.headers.authorization);
  if (!basic) return deps.identity.authenticate(req.headers.authorization);
  try {
    return deps.identity.authenticate(`bearer ${basic.password}`);
  } catch {
    /* not a token: a user's password */
  }
  const key = `account:${basic.user.toLowerCase()}`;
  throttle.check([key]);
  const user = deps.identity.userByEmail(basic.user) ?? deps.identity.userByName(basic.user);
  if (!user || !(await deps.identity.checkPassword(user, basic.password))) {
    throttle.failed([key]);
    throw unauthorized("Authentication failed");
  }
  throttle.succeeded(key);
  return { name: user.spec.email, email: user.spec.email, admin: user.spec.admin ?? false, teams: teamsOf(user), user, tokenHash: "" };
}
