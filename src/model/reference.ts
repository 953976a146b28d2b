// The resource reference (docs/reference.md), generated from the CRD schemas in crds/:
// every field with its type, description and constraints, and the CEL rules' messages.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  "x-kubernetes-validations"?: { rule: string; message?: string }[];
}

interface CRD {
  spec: { names: { kind: string; plural: string; shortNames?: string[] }; scope: string; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
}

const typeOf = (s: Schema): string =>
  s.type === "array" ? `[]${s.items ? typeOf(s.items) : "any"}` : s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object" ? `map[string]${typeOf(s.additionalProperties)}` : (s.type ?? "any");
const constraints = (s: Schema): string =>
  [s.enum ? `one of ${s.enum.map((e) => `\`${String(e)}\``).join(", ")}` : "", s.pattern ? `pattern \`${s.pattern}\`` : "", s.minimum !== undefined ? `≥ ${s.minimum}` : "", s.maximum !== undefined ? `≤ ${s.maximum}` : ""]
    .filter(Boolean)
    .join("; ");
const cell = (t: string) => t.replace(/\|/g, "\\|").replace(/\n/g, " ");

function fields(s: Schema, path: string, rows: string[], rules: string[]): void {
  for (const r of s["x-kubernetes-validations"] ?? []) rules.push(`- \`${path || "."}\`: ${r.message ?? r.rule} (\`${cell(r.rule)}\`)`);
  const props = s.properties ?? (s.type === "array" ? s.items?.properties : undefined);
  if (s.type === "array" && s.items) for (const r of s.items["x-kubernetes-validations"] ?? []) rules.push(`- \`${path}[]\`: ${r.message ?? r.rule}`);
  for (const [name, child] of Object.entries(props ?? {})) {
    const p = `${path}${s.type === "array" ? "[]" : ""}.${name}`.replace(/^\./, "");
    rows.push(`| \`${p}\` | ${typeOf(child)} | ${cell(child.description ?? "")} | ${cell(constraints(child))} |`);
    fields(child, p, rows, rules);
  }
}

/** Markdown for every CRD in dir. */
export function resourceReference(dir: string): string {
  const out = ["# Resource reference", "", "Generated from `crds/` by `npm run docs:crds`. `kubectl explain <kind>.<field>` shows the same descriptions.", ""];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
    const crd = parse(readFileSync(join(dir, file), "utf8")) as CRD;
    const v = crd.spec.versions[0]!;
    const root = v.schema.openAPIV3Schema;
    out.push(`## ${crd.spec.names.kind}`, "", `${root.description ?? ""}`, "", `\`berth.dev/${v.name}\`, ${crd.spec.scope}, plural \`${crd.spec.names.plural}\`, short names ${(crd.spec.names.shortNames ?? []).map((n) => `\`${n}\``).join(", ")}.`, "");
    for (const part of ["spec", "status"] as const) {
      const s = root.properties?.[part];
      if (!s) continue;
      const rows: string[] = [];
      const rules: string[] = [];
      fields(s, part, rows, rules);
      out.push(`### ${part}`, "", "| field | type | description | constraints |", "| --- | --- | --- | --- |", ...rows, "");
      if (rules.length) out.push("Validation rules:", "", ...rules, "");
    }
  }
  return out.join("\n");
}
