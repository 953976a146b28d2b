import { expect } from "chai";
import type { PodLike } from "../../../src/reconcilers/desired/pod-problems.ts";
import { imageProblem } from "../../../src/reconcilers/desired/pod-problems.ts";

const pod = (name: string, waiting?: { reason: string; message?: string }, image = "registry.example/app:1"): PodLike => ({
  metadata: { name, namespace: "ns" },
  spec: { containers: [{ name: "web", image }] },
  status: { containerStatuses: [{ name: "web", image, state: waiting ? { waiting } : {} }] },
});

describe("image problems of an App's pods", () => {
  it("finds none when pods are creating or running", () => {
    expect(imageProblem([])).to.equal(undefined);
    expect(imageProblem([pod("a"), pod("b", { reason: "ContainerCreating" })])).to.equal(undefined);
  });

  it("names the reason, the image, the pod and the kubelet's message", () => {
    const p = imageProblem([pod("a"), pod("b", { reason: "ImagePullBackOff", message: 'Back-off pulling image "nope:1"' }, "nope:1")]);
    expect(p).to.deep.equal({ reason: "ImagePullBackOff", message: 'image "nope:1" of pod b cannot be pulled: Back-off pulling image "nope:1"' });
  });

  it("answers the same whatever the pods' order, and knows every pull failure", () => {
    const pods = [pod("z", { reason: "InvalidImageName" }, "Bad:Name"), pod("m", { reason: "ErrImagePull" }, "gone:2")];
    expect(imageProblem(pods)?.reason).to.equal("ErrImagePull");
    expect(imageProblem([...pods].reverse())?.reason).to.equal("ErrImagePull");
    expect(imageProblem([pod("x", { reason: "ErrImageNeverPull" })])?.message).to.equal('image "registry.example/app:1" of pod x cannot be pulled');
  });

  it("leaves other waiting reasons to the rollout message", () => {
    expect(imageProblem([pod("a", { reason: "CrashLoopBackOff", message: "back-off 10s" })])).to.equal(undefined);
  });
});
