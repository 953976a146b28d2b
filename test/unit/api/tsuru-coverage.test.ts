import { existsSync, readFileSync } from "node:fs";
import { expect } from "chai";
import type { ApiDeps } from "../../../src/api/deps.ts";
import { buildServer } from "../../../src/api/server.ts";
import { apiDocs, cliDoc, documentedEndpoints } from "../../../src/api/coverage.ts";
import { waiterDialect } from "../../../src/api/waiter/dialect.ts";
import { deisDialect } from "../../../src/api/deis/dialect.ts";
import { clusterDialect } from "../../../src/api/cluster/dialect.ts";
import { cloudDialect } from "../../../src/api/cloud/dialect.ts";
import { rewriteTsuruVersion, tsuruDialect } from "../../../src/api/tsuru/dialect.ts";
import { machineryPaths } from "../../../src/api/tsuru/machinery.ts";
import { silentLogger } from "../../../src/log.ts";

const tsv = new URL("../../../../shared/api-reference/endpoints.tsv", import.meta.url).pathname;

describe("tsuru dialect coverage", () => {
  it("rewrites the client's versioned prefixes onto the dialect", () => {
    expect(rewriteTsuruVersion("/1.0/apps?name=x")).to.equal("/tsuru/apps?name=x");
    expect(rewriteTsuruVersion("/1.18/auth/schemes")).to.equal("/tsuru/auth/schemes");
    expect(rewriteTsuruVersion("/v1/apps")).to.equal("/v1/apps");
    expect(rewriteTsuruVersion("/healthz")).to.equal("/healthz");
  });

  it("lists only documented paths as machinery", function () {
    if (!existsSync(tsv)) this.skip(); // shared/ is beside the project in CI and development
    const documented = new Set(documentedEndpoints(tsv).map((e) => `${e.method} ${e.path}`));
    for (const m of machineryPaths) expect(documented.has(`${m.method} ${m.path}`), `${m.method} ${m.path}`).to.equal(true);
  });

  it("keeps docs/api/*.md in step with the routes (npm run docs:api)", async function () {
    if (!existsSync(tsv)) this.skip();
    const server = buildServer<ApiDeps>({ log: silentLogger(), deps: {} as ApiDeps, dialects: [tsuruDialect, deisDialect, cloudDialect, waiterDialect, clusterDialect] });
    await server.ready();
    const docs = apiDocs(server, tsv);
    await server.close();
    expect(docs.tsuru.rows).to.have.length(209);
    expect(docs.tsuru.rows.filter((r) => r.status === "served").length).to.be.at.least(80);
    // Every documented Deis path is served, and everything the 1.13 CLI calls.
    expect(docs.deis.rows.filter((r) => r.status !== "served").map((r) => `${r.method} ${r.path}`)).to.deep.equal([]);
    // Every documented cluster API path is served.
    expect(docs.cluster.rows).to.have.length(23);
    expect(docs.cluster.rows.filter((r) => r.status !== "served").map((r) => `${r.method} ${r.path}`)).to.deep.equal([]);
    // Every documented cloud path is served.
    expect(docs.cloud.rows.filter((r) => r.status !== "served").map((r) => `${r.method} ${r.path}`)).to.deep.equal([]);
    // Every documented Waiter path is served.
    expect(docs.waiter.rows.filter((r) => r.status !== "served").map((r) => `${r.method} ${r.path}`)).to.deep.equal([]);
    for (const name of ["tsuru", "deis", "cloud", "waiter", "cluster"] as const) {
      expect(readFileSync(new URL(`../../../docs/api/${name}.md`, import.meta.url), "utf8"), name).to.equal(docs[name].markdown);
    }
  });

  it("answers every call of every tsuru CLI 1.34 command: served, or 501 with the reason (docs/api/tsuru-cli.md)", async () => {
    const server = buildServer<ApiDeps>({ log: silentLogger(), deps: {} as ApiDeps, dialects: [tsuruDialect, deisDialect, cloudDialect] });
    await server.ready();
    const doc = cliDoc(server);
    await server.close();
    expect(doc.rows.filter((r) => r.status === "not yet").map((r) => r.command)).to.deep.equal([]);
    for (const command of ["app create", "app info", "env set", "app list", "token show", "certificate list", "permission list", "service instance bind", "unit kill", "app deploy list", "event list"]) {
      expect(doc.rows.find((r) => r.command === command)?.status, command).to.equal("served");
    }
    expect(doc.rows.find((r) => r.command === "certificate list")?.calls).to.deep.include({ method: "GET", path: "/1.24/apps/{app}/certificate", status: "served", reason: "" });
    expect(readFileSync(new URL("../../../docs/api/tsuru-cli.md", import.meta.url), "utf8")).to.equal(doc.markdown);
  });
});
