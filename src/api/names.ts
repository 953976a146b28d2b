// Generated names for things a user did not name (Deis `apps:create` without an id): a few
// tries of a friendly word pair, then the pair with a random suffix; always a bounded search.
import { randomInt } from "node:crypto";

const ADJECTIVES = ["brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lively", "merry", "nimble", "proud", "quiet", "swift", "witty"];
const NOUNS = ["badger", "beacon", "comet", "falcon", "harbor", "lantern", "meadow", "otter", "pebble", "quartz", "raven", "summit", "tundra", "walrus", "zephyr"];
const SUFFIX_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

export interface NameOptions {
  /** Plain word pairs tried before suffixes are added. */
  plainTries?: number;
  /** Suffixed names tried before giving up. */
  suffixTries?: number;
  /** Length of the random suffix. */
  suffixLength?: number;
  /** Random integer in [0, n): injectable for tests. */
  random?: (n: number) => number;
}

/**
 * A DNS-label-safe name for which taken() is false, e.g. "swift-otter" or, once a few pairs
 * were taken, "swift-otter-k3x9q". Undefined when every try was taken (the caller answers
 * with an error): the number of calls to taken() never exceeds plainTries + suffixTries.
 */
export function generateName(taken: (name: string) => boolean, opts: NameOptions = {}): string | undefined {
  const random = opts.random ?? ((n: number) => randomInt(n));
  const pick = (xs: readonly string[]) => xs[random(xs.length)]!;
  const pair = () => `${pick(ADJECTIVES)}-${pick(NOUNS)}`;
  for (let i = 0; i < (opts.plainTries ?? 5); i++) {
    const name = pair();
    if (!taken(name)) return name;
  }
  const suffix = () => Array.from({ length: opts.suffixLength ?? 5 }, () => SUFFIX_CHARS[random(SUFFIX_CHARS.length)]).join("");
  for (let i = 0; i < (opts.suffixTries ?? 20); i++) {
    const name = `${pair()}-${suffix()}`;
    if (!taken(name)) return name;
  }
  return undefined;
}
