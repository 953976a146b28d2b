// Platforms from tsuru's "platform add/update": a Dockerfile is read for what a layer-appending
// builder can honour (FROM, ENV, WORKDIR, CMD); anything that needs a Docker build is refused.
import type { EnvVar, PlatformSpec } from "../model/kinds.ts";
import { BuildError, parseReference } from "./image.ts";

export const PLATFORM_DOCKERFILE =
  "Berth builds without Docker: a platform is a base image in the registry. A platform Dockerfile may only hold FROM <registry>/<image>, ENV, WORKDIR and CMD lines (or use platform add NAME -i IMAGE); build other steps (RUN, COPY, ...) into the base image first";

/** The platform a Dockerfile describes; throws BuildError for what a layer append cannot do. */
export function platformFromDockerfile(text: string): PlatformSpec {
  let image: string | undefined;
  const env: EnvVar[] = [];
  let workdir: string | undefined;
  let command: string | undefined;
  const lines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [op = "", ...rest] = line.split(/\s+/);
    const arg = rest.join(" ");
    switch (op.toUpperCase()) {
      case "FROM":
        if (image) throw new BuildError(`${PLATFORM_DOCKERFILE}: multi-stage builds are not supported`);
        parseReference(rest[0] ?? "");
        image = rest[0];
        break;
      case "ENV":
        for (const m of arg.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env.push({ name: m[1]!, value: m[2]!.replace(/^"|"$/g, "") });
        if (!arg.includes("=") && rest.length >= 2) env.push({ name: rest[0]!, value: rest.slice(1).join(" ") });
        break;
      case "WORKDIR":
        workdir = arg;
        break;
      case "CMD": {
        const json = arg.startsWith("[") ? (JSON.parse(arg) as unknown) : undefined;
        command = Array.isArray(json) ? json.map(String).join(" ") : arg;
        break;
      }
      default:
        throw new BuildError(`${PLATFORM_DOCKERFILE} (found ${op})`);
    }
  }
  if (!image) throw new BuildError(`${PLATFORM_DOCKERFILE}: the Dockerfile has no FROM line`);
  return { image, ...(env.length ? { env } : {}), ...(workdir ? { workdir } : {}), ...(command ? { command } : {}) };
}
