// What a push asks for: the ref updates git receive-pack hands its pre-receive hook
// ("OLD NEW REFNAME" per line), and which of them is the one to deploy (master or main, as Deis
// built master).
export interface RefUpdate {
  oldRev: string;
  newRev: string;
  ref: string;
}

const ZERO = /^0+$/;
export const DEPLOYED_REFS = ["refs/heads/master", "refs/heads/main"];

export function parseRefUpdates(text: string): RefUpdate[] {
  return text
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length === 3 && /^[0-9a-f]{40,64}$/.test(p[0]!) && /^[0-9a-f]{40,64}$/.test(p[1]!))
    .map(([oldRev, newRev, ref]) => ({ oldRev: oldRev!, newRev: newRev!, ref: ref! }));
}

/** The update to build, or why the push is refused (every ref must be master or main, and not a deletion). */
export function deployedUpdate(updates: readonly RefUpdate[]): RefUpdate | { error: string } {
  if (!updates.length) return { error: "nothing to deploy: the push updates no branch" };
  for (const u of updates) {
    if (!DEPLOYED_REFS.includes(u.ref)) return { error: `${u.ref.replace(/^refs\/heads\//, "")} is not deployed: push master or main (git push deis HEAD:master)` };
    if (ZERO.test(u.newRev)) return { error: `deleting ${u.ref.replace(/^refs\/heads\//, "")} is not allowed` };
  }
  if (updates.length > 1) return { error: "push one of master and main at a time" };
  return updates[0]!;
}
