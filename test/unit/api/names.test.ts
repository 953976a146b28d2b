import { expect } from "chai";
import { generateName } from "../../../src/api/names.ts";

describe("generated names", () => {
  it("gives a free word pair when one is free", () => {
    const name = generateName(() => false);
    expect(name).to.match(/^[a-z]+-[a-z]+$/);
  });

  it("adds a random suffix after a few taken pairs, and stays a DNS label", () => {
    const seen: string[] = [];
    const name = generateName((n) => (seen.push(n), seen.length <= 5), { plainTries: 5 });
    expect(seen.slice(0, 5).every((n) => /^[a-z]+-[a-z]+$/.test(n))).to.equal(true);
    expect(name).to.match(/^[a-z]+-[a-z]+-[a-z0-9]{5}$/);
    expect(name!.length).to.be.at.most(40);
  });

  it("is bounded: when every name is taken it gives up after plainTries + suffixTries calls", () => {
    let calls = 0;
    const name = generateName(() => (calls++, true), { plainTries: 3, suffixTries: 7 });
    expect(name).to.equal(undefined);
    expect(calls).to.equal(10);
  });

  it("draws from the random source it is given", () => {
    expect(generateName(() => false, { random: () => 0 })).to.equal("brave-badger");
    expect(generateName((n) => n === "brave-badger", { random: () => 0, plainTries: 1, suffixLength: 3 })).to.equal("brave-badger-aaa");
  });
});
