// Writes docs/api/tsuru.md: every documented tsuru endpoint and its status in Berth.
import { mkdirSync, writeFileSync } from "node:fs";
import { buildServer } from "../src/api/server.ts";
import type { ApiDeps } from "../src/api/deps.ts";
import { tsuruDialect } from "../src/api/tsuru/dialect.ts";
import { coverage, coverageMarkdown, documentedEndpoints } from "../src/api/tsuru/coverage.ts";
import { silentLogger } from "../src/log.ts";

const tsv = process.env.BERTH_ENDPOINTS ?? new URL("../../shared/api-reference/endpoints.tsv", import.meta.url).pathname;
// Registering routes touches no dependency: handlers are never called here.
const server = buildServer<ApiDeps>({ log: silentLogger(), deps: {} as ApiDeps, dialects: [tsuruDialect] });
await server.ready();
const rows = coverage(server, documentedEndpoints(tsv));
mkdirSync(new URL("../docs/api", import.meta.url), { recursive: true });
writeFileSync(new URL("../docs/api/tsuru.md", import.meta.url), coverageMarkdown(rows));
console.log(`docs/api/tsuru.md: ${rows.filter((r) => r.status === "served").length} served, ${rows.filter((r) => r.status === "machinery").length} machinery, ${rows.filter((r) => r.status === "not yet").length} not yet`);
await server.close();
