// tsuru platforms: Platform resources (cluster-scoped). Anyone may list them; admins add,
// update and remove. A Dockerfile is read for its base image (see src/builder/platform.ts).
import type { FastifyInstance } from "fastify";
import type { Platform, PlatformSpec } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import { platformFromDockerfile } from "../../builder/platform.ts";
import { parseReference } from "../../builder/image.ts";
import type { ApiDeps } from "../deps.ts";
import { badRequest, conflict, fromKubernetes, notFound } from "../errors.ts";
import { requireAdmin } from "../identity/principal.ts";
import { NAME } from "../identity/store.ts";
import { platform, platforms } from "../apps/source.ts";
import { bool, caller, form, str, streamed } from "./http.ts";
import type { Form } from "./http.ts";
import { uploadOf } from "./multipart.ts";

type P<T extends string> = { Params: Record<T, string> };

const view = (p: Platform) => ({ Name: p.metadata.name, Disabled: p.spec.disabled ?? false });

export function platformRoutes(s: FastifyInstance, deps: ApiDeps): void {
  const { client, apps } = deps;

  /** What a request says about the platform: a Dockerfile (file or text) or an image; undefined: nothing. */
  const specOf = (req: Parameters<typeof uploadOf>[0], f: Form): PlatformSpec | undefined => {
    const file = uploadOf(req)?.files.dockerfile_content?.data.toString("utf8") ?? str(f, "dockerfile_content");
    const image = str(f, "image")?.trim();
    try {
      if (image) {
        parseReference(image);
        return { image };
      }
      return file !== undefined ? platformFromDockerfile(file) : undefined;
    } catch (e) {
      throw badRequest((e as Error).message);
    }
  };
  const write = async <T>(what: string, op: () => Promise<T>) => {
    try {
      return await op();
    } catch (e) {
      throw fromKubernetes(e, what);
    }
  };

  s.get("/platforms", async (req, reply) => {
    caller(deps, req);
    const all = platforms(deps).sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
    return all.length ? all.map(view) : reply.code(204).send();
  });
  s.get<P<"name">>("/platforms/:name", async (req) => {
    caller(deps, req);
    const p = platform(deps, req.params.name);
    if (!p) throw notFound("Platform doesn't exist.");
    return { platform: view(p), images: [p.spec.image] };
  });

  s.post("/platforms", async (req, reply) => {
    requireAdmin(caller(deps, req));
    const f = form(req);
    const name = str(f, "name")?.trim() ?? "";
    if (!name) throw badRequest("Platform name is required.");
    if (!NAME.test(name)) throw badRequest("Invalid platform name, should have at most 63 characters, containing only lower case letters, numbers or dashes, starting with a letter.");
    if (platform(deps, name)) throw conflict("Duplicate platform");
    const spec = specOf(req, f);
    if (!spec) throw badRequest("Dockerfile is required.");
    return streamed(reply, async (out) => {
      out.message(`---- Adding platform ${name} (base image ${spec.image}) ----`);
      const created = await write(`platform ${name}`, () => client.create<Platform>(BerthTypes.Platform, { metadata: { name }, spec }));
      await apps.synced(BerthTypes.Platform, name, created.metadata.resourceVersion);
      out.message("Platform successfully added!");
    });
  });

  s.put<P<"name">>("/platforms/:name", async (req, reply) => {
    requireAdmin(caller(deps, req));
    if (!platform(deps, req.params.name)) throw notFound("Platform doesn't exist.");
    const f = form(req);
    const change: Record<string, unknown> = { ...specOf(req, f) };
    if (str(f, "disabled") !== undefined) change.disabled = bool(f, "disabled");
    if (!Object.keys(change).length) throw badRequest("Nothing to update: send a Dockerfile, an image or disabled=true|false.");
    return streamed(reply, async (out) => {
      out.message(`---- Updating platform ${req.params.name} ----`);
      const updated = await write(`platform ${req.params.name}`, () => client.mergePatch<Platform>(BerthTypes.Platform, undefined, req.params.name, { spec: change }));
      await apps.synced(BerthTypes.Platform, req.params.name, updated.metadata.resourceVersion);
      out.message("Platform successfully updated!");
    });
  });

  s.delete<P<"name">>("/platforms/:name", async (req, reply) => {
    requireAdmin(caller(deps, req));
    if (!platform(deps, req.params.name)) throw notFound("Platform doesn't exist.");
    const users = apps.apps().filter((a) => a.spec.platform === req.params.name);
    if (users.length) throw badRequest(`Platform has apps. You must remove them before remove the platform (${users.map((a) => a.metadata.name).join(", ")}).`);
    await write(`platform ${req.params.name}`, () => client.delete(BerthTypes.Platform, undefined, req.params.name));
    await apps.synced(BerthTypes.Platform, req.params.name, undefined);
    return reply.code(200).send();
  });
}
