import { expect } from "chai";
import type { AppStatus } from "../../../src/model/kinds.ts";
import { holdStatusMs } from "../../../src/reconcilers/desired/status-timing.ts";
import type { Condition } from "../../../src/runtime/conditions.ts";

const ready = (status: Condition["status"], reason: string): Condition => ({ type: "Ready", status, reason, message: "", observedGeneration: 1 });
const st = (gen: number, release: string, cond: Condition): AppStatus => ({ observedGeneration: gen, currentRelease: release, conditions: [cond] }) as AppStatus;
const W = 10_000;

describe("holdStatusMs (when an App's status is written)", () => {
  it("holds a new App's first rollout back for the window, counted from the first hold", () => {
    const next = st(1, "v1", ready("False", "RollingOut"));
    expect(holdStatusMs(undefined, next, 1, undefined, 0, W)).to.equal(W);
    expect(holdStatusMs({} as AppStatus, next, 1, 1_000, 4_000, W)).to.equal(7_000);
    expect(holdStatusMs(undefined, next, 1, 1_000, 11_000, W)).to.equal(0);
  });

  it("writes Ready and problems at once", () => {
    expect(holdStatusMs(undefined, st(1, "v1", ready("True", "Running")), 1, undefined, 0, W)).to.equal(0);
    expect(holdStatusMs(undefined, st(1, "v1", ready("False", "ImagePullBackOff")), 1, undefined, 0, W)).to.equal(0);
    expect(holdStatusMs(undefined, { observedGeneration: 1 } as AppStatus, 1, undefined, 0, W)).to.equal(0);
  });

  it("announces a change at once (a new generation, or a Ready App whose units went away), then merges its progress", () => {
    const wasReady = st(1, "v1", ready("True", "Running"));
    expect(holdStatusMs(wasReady, st(2, "v2", ready("False", "RollingOut")), 2, undefined, 0, W)).to.equal(0);
    expect(holdStatusMs(wasReady, st(1, "v1", ready("False", "RollingOut")), 1, undefined, 0, W)).to.equal(0);
    // A changed App that never had a status (generation 2) is not a first rollout: the caller waits for observedGeneration.
    expect(holdStatusMs(undefined, st(2, "v2", ready("False", "RollingOut")), 2, undefined, 0, W)).to.equal(0);
    const announced = st(2, "v2", ready("False", "RollingOut"));
    expect(holdStatusMs(announced, st(2, "v2", ready("False", "RollingOut")), 2, undefined, 0, W)).to.equal(W);
    expect(holdStatusMs(announced, st(2, "v2", ready("False", "RollingOut")), 2, 0, W, W)).to.equal(0);
  });
});
