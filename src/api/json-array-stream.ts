// A long JSON array sent as the client reads it. An answer listing 10,000 apps with their units
// is ~10 MB of JSON: built whole, each request in flight held the views of every app and the
// whole string at once (8 such lists at once took the API's heap from 180 to 785 MiB). Written in
// batches, a request holds one batch's views and what the socket has not yet taken.
import { Readable } from "node:stream";

/** `items` as a JSON array, `view(item)` serialised a batch at a time, paced by the reader. */
export function jsonArrayStream<T>(items: readonly T[], view: (item: T) => unknown, batch = 100): Readable {
  function* chunks(): Generator<string> {
    for (let i = 0; i < items.length; i += batch) {
      yield (i === 0 ? "[" : ",") + items.slice(i, i + batch).map((item) => JSON.stringify(view(item))).join(",");
    }
    yield items.length ? "]" : "[]";
  }
  return Readable.from(chunks(), { objectMode: false });
}
