import { expect } from "chai";
import type { App } from "../../../src/model/kinds.ts";
import { isObjectId, objectId, releaseEventId } from "../../../src/api/tsuru/object-id.ts";

const app = (uid: string): App => ({ metadata: { name: "web", namespace: "pool-a", uid }, spec: { image: "nginx", processes: [] } });

describe("tsuru ObjectIDs", () => {
  it("are 24 hex digits, as bson.ObjectId's JSON decoding demands", () => {
    expect(objectId("anything")).to.match(/^[0-9a-f]{24}$/);
    expect(isObjectId(objectId(""))).to.equal(true);
    expect(isObjectId("0f8fad5b-d9cb-469f-a165-70867728950e")).to.equal(false); // a Kubernetes uid is not one
  });

  it("are derived deterministically from what they name", () => {
    expect(releaseEventId(app("u1"), 3)).to.equal(releaseEventId(app("u1"), 3));
    expect(releaseEventId(app("u1"), 3)).to.not.equal(releaseEventId(app("u1"), 4));
    // An app removed and created again under the same name has new ids.
    expect(releaseEventId(app("u1"), 3)).to.not.equal(releaseEventId(app("u2"), 3));
    expect(releaseEventId(app("u1"), 1)).to.equal(objectId("u1/release/v1"));
  });
});
