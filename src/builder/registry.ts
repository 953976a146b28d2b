// A client for the OCI distribution HTTP API: read a manifest and config, upload blobs (or
// mount them from another repository), write a manifest. Basic and bearer-token auth.
import type { Descriptor, ImageConfig, Manifest } from "./image.ts";
import { BuildError, MediaTypes } from "./image.ts";
import { sha256 } from "./tar.ts";

export interface RegistryAuth {
  username: string;
  password: string;
}

export class RegistryError extends BuildError {}

const ACCEPT = [MediaTypes.ociManifest, MediaTypes.dockerManifest, MediaTypes.ociIndex, MediaTypes.dockerList].join(", ");

export class RegistryClient {
  private tokens = new Map<string, string>();

  constructor(
    readonly host: string,
    private readonly auth?: RegistryAuth,
    private readonly opts: { insecure?: boolean; timeoutMs?: number } = {},
  ) {}

  private base(): string {
    const plain = this.opts.insecure ?? (/^(localhost|127\.|\[::1\])/.test(this.host) || /^\d+\.\d+\.\d+\.\d+(:\d+)?$/.test(this.host));
    return `${plain ? "http" : "https"}://${this.host}`;
  }

  private async request(repo: string, method: string, path: string, init: { headers?: Record<string, string>; body?: Buffer; scope?: string } = {}): Promise<Response> {
    const url = path.startsWith("http") ? path : `${this.base()}${path}`;
    const scope = init.scope ?? `repository:${repo}:pull,push`;
    const send = async () => {
      const headers: Record<string, string> = { ...init.headers };
      const token = this.tokens.get(scope);
      if (token) headers.Authorization = `Bearer ${token}`;
      else if (this.auth) headers.Authorization = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString("base64")}`;
      try {
        return await fetch(url, { method, headers, ...(init.body ? { body: init.body } : {}), redirect: "follow", signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000) });
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new RegistryError(`the registry ${this.host} is unreachable: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
      }
    };
    let res = await send();
    if (res.status === 401 && !this.tokens.has(scope)) {
      const challenge = res.headers.get("www-authenticate") ?? "";
      if (/^bearer/i.test(challenge)) {
        await this.fetchToken(challenge, scope);
        res = await send();
      }
    }
    if (res.status === 401 || res.status === 403) throw new RegistryError(`the registry ${this.host} refused access to ${repo} (${res.status}): check the registry credentials`);
    return res;
  }

  private async fetchToken(challenge: string, scope: string): Promise<void> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (!params.realm) return;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", scope);
    const headers: Record<string, string> = this.auth ? { Authorization: `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString("base64")}` } : {};
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000) }).catch((e: Error) => {
      throw new RegistryError(`the registry's token service is unreachable: ${e.message}`);
    });
    if (!res.ok) throw new RegistryError(`the registry's token service refused the credentials (${res.status})`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (token) this.tokens.set(scope, token);
  }

  private async fail(res: Response, what: string): Promise<never> {
    const text = (await res.text().catch(() => "")).slice(0, 300).trim();
    throw new RegistryError(`${what}: the registry answered ${res.status}${text ? ` ${text}` : ""}`);
  }

  /** The image manifest for ref (an index is resolved to its linux/amd64 entry), with its digest. */
  async manifest(repo: string, ref: string): Promise<{ manifest: Manifest; digest: string }> {
    const res = await this.request(repo, "GET", `/v2/${repo}/manifests/${ref}`, { headers: { Accept: ACCEPT }, scope: `repository:${repo}:pull` });
    if (res.status === 404) throw new RegistryError(`image ${this.host}/${repo}:${ref} is not in the registry`);
    if (!res.ok) await this.fail(res, `reading ${repo}:${ref}`);
    const body = Buffer.from(await res.arrayBuffer());
    const json = JSON.parse(body.toString("utf8")) as Manifest & { manifests?: Descriptor[] };
    const type = json.mediaType ?? res.headers.get("content-type") ?? "";
    if (json.manifests) {
      const pick = json.manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64") ?? json.manifests[0];
      if (!pick) throw new RegistryError(`image index ${repo}:${ref} is empty`);
      return this.manifest(repo, pick.digest);
    }
    return { manifest: { ...json, mediaType: type }, digest: sha256(body) };
  }

  async blob(repo: string, digest: string): Promise<Buffer> {
    const res = await this.request(repo, "GET", `/v2/${repo}/blobs/${digest}`, { scope: `repository:${repo}:pull` });
    if (!res.ok) await this.fail(res, `reading blob ${digest} of ${repo}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (sha256(body) !== digest) throw new RegistryError(`blob ${digest} of ${repo} does not match its digest`);
    return body;
  }

  async config(repo: string, m: Manifest): Promise<ImageConfig> {
    return JSON.parse((await this.blob(repo, m.config.digest)).toString("utf8")) as ImageConfig;
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await this.request(repo, "HEAD", `/v2/${repo}/blobs/${digest}`);
    return res.ok;
  }

  /** Makes blob digest (found in repository from) present in repo: mounted, else copied. */
  async mountBlob(repo: string, from: string, digest: string): Promise<void> {
    if (repo === from || (await this.hasBlob(repo, digest))) return;
    const res = await this.request(repo, "POST", `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`);
    if (res.status === 201) return;
    if (res.status === 202) await res.body?.cancel();
    await this.putBlob(repo, await this.blob(from, digest), digest);
  }

  /** Uploads a blob (monolithic: POST for a location, then PUT with the digest). */
  async putBlob(repo: string, data: Buffer, digest = sha256(data)): Promise<void> {
    if (await this.hasBlob(repo, digest)) return;
    const start = await this.request(repo, "POST", `/v2/${repo}/blobs/uploads/`);
    if (start.status !== 202) await this.fail(start, `starting an upload to ${repo}`);
    const location = start.headers.get("location");
    if (!location) throw new RegistryError("the registry gave no upload location");
    const url = new URL(location, this.base());
    url.searchParams.set("digest", digest);
    const put = await this.request(repo, "PUT", url.toString(), { headers: { "Content-Type": "application/octet-stream", "Content-Length": String(data.length) }, body: data });
    if (put.status !== 201) await this.fail(put, `uploading blob ${digest} to ${repo}`);
  }

  /** Writes the manifest under tag; returns its digest. */
  async putManifest(repo: string, tag: string, m: Manifest): Promise<string> {
    const body = Buffer.from(JSON.stringify(m));
    const res = await this.request(repo, "PUT", `/v2/${repo}/manifests/${tag}`, { headers: { "Content-Type": m.mediaType ?? MediaTypes.ociManifest }, body });
    if (res.status !== 201) await this.fail(res, `writing manifest ${repo}:${tag}`);
    return sha256(body);
  }
}
