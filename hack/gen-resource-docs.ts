// Writes docs/reference.md from the CRDs in crds/. Run: npm run docs:crds
import { writeFileSync } from "node:fs";
import { resourceReference } from "../src/model/reference.ts";

writeFileSync(new URL("../docs/reference.md", import.meta.url), resourceReference(new URL("../crds/", import.meta.url).pathname));
console.log("docs/reference.md written");
