// Deis SSH keys of the caller (deis/deis:controller/api/models.py Key: the public key is
// unique across users; serializers.py KeySerializer adds its fingerprint).
import type { FastifyInstance } from "fastify";
import type { User } from "../../model/kinds.ts";
import { BerthTypes } from "../../model/kinds.ts";
import { badRequest, notFound } from "../errors.ts";
import { fingerprint, isSshPublicKey, sameKey } from "../identity/ssh-keys.ts";
import type { DeisHttp, P } from "./http.ts";
import { body, need, paged } from "./http.ts";
import { deisTime } from "./views.ts";

const unique = (field: string) => badRequest(`${field}: This field must be unique.`, { [field]: ["This field must be unique."] });

type Key = { id: string; publicKey: string };
const keyView = (u: User, k: Key) => ({
  owner: u.spec.username ?? u.spec.email,
  id: k.id,
  public: k.publicKey,
  fingerprint: fingerprint(k.publicKey),
  created: deisTime(u.metadata.creationTimestamp),
  updated: deisTime(u.metadata.creationTimestamp),
  uuid: `${u.metadata.uid}-${k.id}`,
});

export function keyRoutes(s: FastifyInstance, h: DeisHttp): void {
  const { identity, client } = h.deps;
  const save = (u: User, keys: Key[]) => identity.write(BerthTypes.User, "key", () => client.mergePatch<User>(BerthTypes.User, undefined, u.metadata.name ?? "", { spec: { sshKeys: keys } }));
  s.get("/keys", async (req) => {
    const u = h.user(h.who(req));
    return paged(
      req,
      (u.spec.sshKeys ?? []).map((k) => keyView(u, k)),
    );
  });
  s.post("/keys", async (req, reply) => {
    const u = h.user(h.who(req));
    const b = body(req);
    const id = need(b, "id");
    const pub = need(b, "public");
    if (!isSshPublicKey(pub)) throw badRequest("public", { public: ["Key contains invalid base64 chars or is not an SSH public key"] });
    // The public key is unique across all users (git push finds its user by it); ids per user.
    if (identity.users().some((x) => (x.spec.sshKeys ?? []).some((k) => sameKey(k.publicKey, pub)))) throw unique("public");
    if ((u.spec.sshKeys ?? []).some((k) => k.id === id)) throw unique("id");
    await save(u, [...(u.spec.sshKeys ?? []), { id, publicKey: pub }]);
    return reply.code(201).send(keyView(u, { id, publicKey: pub }));
  });
  s.delete<P<"key">>("/keys/:key", async (req, reply) => {
    const u = h.user(h.who(req));
    if (!(u.spec.sshKeys ?? []).some((k) => k.id === req.params.key)) throw notFound("Not found.");
    await save(
      u,
      (u.spec.sshKeys ?? []).filter((k) => k.id !== req.params.key),
    );
    return reply.code(204).send();
  });
}
