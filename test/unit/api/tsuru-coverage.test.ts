import { existsSync, readFileSync } from "node:fs";
import { expect } from "chai";
import type { ApiDeps } from "../../../src/api/deps.ts";
import { buildServer } from "../../../src/api/server.ts";
import { coverage, coverageMarkdown, documentedEndpoints } from "../../../src/api/tsuru/coverage.ts";
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

  it("keeps docs/api/tsuru.md in step with the routes (npm run docs:tsuru)", async function () {
    if (!existsSync(tsv)) this.skip();
    const server = buildServer<ApiDeps>({ log: silentLogger(), deps: {} as ApiDeps, dialects: [tsuruDialect] });
    await server.ready();
    const rows = coverage(server, documentedEndpoints(tsv));
    await server.close();
    expect(rows).to.have.length(209);
    expect(rows.filter((r) => r.status === "served").length).to.be.at.least(80);
    const doc = readFileSync(new URL("../../../docs/api/tsuru.md", import.meta.url), "utf8");
    expect(doc).to.equal(coverageMarkdown(rows));
  });
});
