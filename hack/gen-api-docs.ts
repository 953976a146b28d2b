// Writes docs/api/tsuru.md, deis.md, cloud.md, waiter.md and cluster.md (every documented endpoint and its status) and
// docs/api/tsuru-cli.md (every tsuru CLI 1.34 command and its status).
import { mkdirSync, writeFileSync } from "node:fs";
import { buildServer } from "../src/api/server.ts";
import type { ApiDeps } from "../src/api/deps.ts";
import { tsuruDialect } from "../src/api/tsuru/dialect.ts";
import { deisDialect } from "../src/api/deis/dialect.ts";
import { clusterDialect } from "../src/api/cluster/dialect.ts";
import { cloudDialect } from "../src/api/cloud/dialect.ts";
import { waiterDialect } from "../src/api/waiter/dialect.ts";
import { apiDocs, cliDoc } from "../src/api/coverage.ts";
import { silentLogger } from "../src/log.ts";

const tsv = process.env.BERTH_ENDPOINTS ?? new URL("../../shared/api-reference/endpoints.tsv", import.meta.url).pathname;
// Registering routes touches no dependency: handlers are never called here.
const server = buildServer<ApiDeps>({ log: silentLogger(), deps: {} as ApiDeps, dialects: [tsuruDialect, deisDialect, cloudDialect, waiterDialect, clusterDialect] });
await server.ready();
mkdirSync(new URL("../docs/api", import.meta.url), { recursive: true });
for (const [name, doc] of Object.entries(apiDocs(server, tsv))) {
  writeFileSync(new URL(`../docs/api/${name}.md`, import.meta.url), doc.markdown);
  console.log(`docs/api/${name}.md: ${doc.summary}`);
}
const cli = cliDoc(server);
writeFileSync(new URL("../docs/api/tsuru-cli.md", import.meta.url), cli.markdown);
console.log(`docs/api/tsuru-cli.md: ${cli.summary}`);
await server.close();
