import { expect } from "chai";
import { resourceOfPath } from "../../../src/kube/request-resource.ts";

describe("resourceOfPath", () => {
  it("names namespaced resources, core and grouped", () => {
    expect(resourceOfPath("/api/v1/namespaces/team-a/secrets/web-v1-env")).to.equal("secrets");
    expect(resourceOfPath("/apis/apps/v1/namespaces/team-a/deployments")).to.equal("deployments");
    expect(resourceOfPath("/apis/apps/v1/namespaces/team-a/deployments/web?fieldManager=berth")).to.equal("deployments");
  });

  it("names subresources after their resource", () => {
    expect(resourceOfPath("/apis/berth.dev/v1alpha1/namespaces/team-a/apps/web/status")).to.equal("apps/status");
    expect(resourceOfPath("/api/v1/namespaces/team-a/pods/web-1/proxy")).to.equal("pods/proxy");
  });

  it("names cluster-scoped resources and namespaces themselves", () => {
    expect(resourceOfPath("/apis/berth.dev/v1alpha1/pools/default")).to.equal("pools");
    expect(resourceOfPath("/api/v1/namespaces/team-a")).to.equal("namespaces");
    expect(resourceOfPath("/apis/apps/v1/deployments?watch=true")).to.equal("deployments");
  });
});
