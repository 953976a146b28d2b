// tsuru identifies events and deploys by MongoDB ObjectIDs (24 hex digits), and its clients
// decode them as such (tsuru/tsuru:app/deploy.go DeployData.ID is a bson.ObjectId, whose JSON
// decoding refuses anything but 24 hex digits; the CLI prints event ids with .Hex()). Berth has
// no database to mint them: it derives them from what they name, so the same release always
// has the same id, on every replica and after every restart.
import { createHash } from "node:crypto";
import type { App } from "../../model/kinds.ts";

const OBJECT_ID = /^[0-9a-f]{24}$/;

/** A 24-hex-digit ObjectID derived from a key: the first 12 bytes of its SHA-256. */
export function objectId(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 24);
}

export const isObjectId = (s: string): boolean => OBJECT_ID.test(s);

/**
 * The id of the deploy (and its event) that made release `version` of an app. Keyed by the
 * app's uid, so an app removed and created again under the same name gets new ids. Known
 * before the release exists, which is what the deploy's X-Tsuru-Eventid header needs.
 */
export function releaseEventId(app: App, version: number): string {
  return objectId(`${app.metadata.uid ?? `${app.metadata.namespace}/${app.metadata.name}`}/release/v${version}`);
}
