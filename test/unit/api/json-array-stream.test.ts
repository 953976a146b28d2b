// A long JSON array is written a batch at a time, as the reader takes it.
import { expect } from "chai";
import { jsonArrayStream } from "../../../src/api/json-array-stream.ts";

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += String(chunk);
  return out;
}

describe("jsonArrayStream", () => {
  it("writes the same JSON as serialising the whole array, at and around batch boundaries", async () => {
    for (const n of [0, 1, 2, 3, 4, 7]) {
      const items = Array.from({ length: n }, (_, i) => ({ name: `a-${i}`, units: [{ id: i }], note: 'quote " and \\u2028' }));
      const got = await text(jsonArrayStream(items, (x) => ({ ...x, n: x.units.length }), 3));
      expect(got, `n=${n}`).to.equal(JSON.stringify(items.map((x) => ({ ...x, n: x.units.length }))));
    }
  });

  it("makes the views of a batch only when the reader asks for it", async () => {
    let made = 0;
    const stream = jsonArrayStream(Array.from({ length: 1000 }, (_, i) => i), (i) => (made++, { i }), 10);
    const first = (await stream[Symbol.asyncIterator]().next()).value as Buffer;
    expect(String(first).startsWith('[{"i":0},')).to.equal(true);
    expect(made).to.be.lessThan(1000);
    stream.destroy();
  });
});
