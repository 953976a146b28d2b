// When an App's new status is written. At once when it has news: Ready, a problem (any reason
// but RollingOut), or a change the user made (a new generation must show as observed, API
// calls wait for that). Held back, for at most windowMs, when it only says that a rollout is
// under way: a new App's first rollout (on KWOK, or with a pulled image, it is Ready a moment
// later and one status write says so), or progress counts of a rollout already announced.
import type { AppStatus } from "../../model/kinds.ts";
import { getCondition } from "../../runtime/conditions.ts";

export const STATUS_WINDOW_MS = 10_000;

/**
 * Milliseconds to hold `next` back (0: write it now). `since` is when holding back began for
 * this App; `generation` is the App's metadata.generation.
 */
export function holdStatusMs(prev: AppStatus | undefined, next: AppStatus, generation: number | undefined, since: number | undefined, now: number, windowMs = STATUS_WINDOW_MS): number {
  const ready = getCondition(next.conditions, "Ready");
  if (!ready || ready.status === "True" || ready.reason !== "RollingOut") return 0;
  const firstRollout = !prev?.conditions?.length && (generation ?? 1) <= 1;
  const announced =
    prev?.observedGeneration === next.observedGeneration && prev?.currentRelease === next.currentRelease && getCondition(prev?.conditions, "Ready")?.reason === "RollingOut";
  if (!firstRollout && !announced) return 0;
  return Math.max(0, windowMs - (since === undefined ? 0 : now - since));
}
