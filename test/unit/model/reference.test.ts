import { readFileSync } from "node:fs";
import { expect } from "chai";
import { resourceReference } from "../../../src/model/reference.ts";

describe("resource reference", () => {
  it("docs/reference.md is generated from the current CRDs (npm run docs:crds)", () => {
    const generated = resourceReference(new URL("../../../crds/", import.meta.url).pathname);
    expect(generated).to.contain("## App").and.to.contain("`spec.processes[].name`").and.to.contain("autoscaling.minReplicas must not be greater than autoscaling.maxReplicas");
    expect(readFileSync(new URL("../../../docs/reference.md", import.meta.url), "utf8")).to.equal(generated);
  });
});
