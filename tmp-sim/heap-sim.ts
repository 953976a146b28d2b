import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { Types } from "../src/kube/resource.ts";
import { BerthTypes } from "../src/model/kinds.ts";
import { intern, tableSize } from "./intern.ts";
import { transformFor } from "../src/runtime/transform.ts";
const N = Number(process.env.N ?? 10000);
const gc = (globalThis as { gc?: () => void }).gc!;
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed / 1048576; };
const samples: [string, string, import("../src/kube/resource.ts").ResourceType][] = [
  ["app", "app.json", BerthTypes.App], ["release", "release.json", BerthTypes.Release], ["deploy", "deploy.json", Types.Deployment],
  ["svc", "svc.json", Types.Service], ["pod", "pod.json", Types.Pod], ["secret", "secret.json", Types.Secret],
];
const keep: unknown[] = [];
let last = heap();
console.log("base", last.toFixed(1));
for (const [what, file, type] of samples) {
  const text = readFileSync(`/tmp/scr/${file}`, "utf8");
  const t = transformFor(type);
  const m = new Map<string, unknown>();
  let bytes = 0;
  for (let i = 0; i < N; i++) {
    const s = text.replaceAll("a-0", `a-${i}`).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, () => randomUUID()).replace(/"resourceVersion":"\d+"/, `"resourceVersion":"${1000000 + i * 7}"`);
    const o = process.env.INTERN ? intern(t(JSON.parse(s))) : t(JSON.parse(s));
    bytes += JSON.stringify(o).length;
    m.set(`ns/${what}-${i}`, o);
  }
  keep.push(m);
  const now = heap();
  console.log(what.padEnd(8), "heap MiB", (now - last).toFixed(1), "JSON MiB", (bytes / 1048576).toFixed(1), "per obj B", Math.round(((now - last) * 1048576) / N));
  last = now;
}
console.log("table", tableSize(), "total", last.toFixed(1), "rss", (process.memoryUsage().rss / 1048576).toFixed(0));
