// A user's personal team: how per-user ownership (Deis' per-user permissions, Waiter's
// run-as-user) maps onto Berth's team model.
import { createHash } from "node:crypto";
import { NAME } from "./store.ts";

/**
 * A user's personal team. Usernames (Deis') and e-mails may hold characters team names cannot ("_", ".", "@", "+", capitals): those
 * get a slug and a hash, so two usernames never share a team.
 */
export function personalTeam(username: string): string {
  if (NAME.test(username) && username.length <= 58) return `user-${username}`;
  const slug = username
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  const hash = createHash("sha256").update(username).digest("hex").slice(0, 8);
  return `user-${slug ? `${slug}-` : ""}${hash}`;
}
