// A small Kubernetes REST client over node:https with a keep-alive agent. It does what the
// runtime needs and does it explicitly: content types for apply and merge patches, streaming
// watches with an idle watchdog, abort signals, and errors that carry the API's status.
import https from "node:https";
import http from "node:http";
import { type Connection, loadConnection } from "./config.ts";
import type { KubeObject, ObjectList, ResourceType } from "./resource.ts";
import { apiVersionOf, resourcePath } from "./resource.ts";

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

export const isNotFound = (e: unknown) => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown) => e instanceof KubeApiError && e.status === 409;
export const isGone = (e: unknown) => e instanceof KubeApiError && e.status === 410;
export const isAlreadyExists = (e: unknown) => e instanceof KubeApiError && e.status === 409 && e.reason === "AlreadyExists";

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A request that failed on a reused keep-alive connection before any answer, and may be sent again. */
export function retriesOnStaleConnection(e: unknown, method: string, contentType: string | undefined): boolean {
  const err = e as { code?: string; reusedSocket?: boolean };
  return err.reusedSocket === true && (err.code === "ECONNRESET" || err.code === "EPIPE") && method !== "POST" && contentType !== "application/json-patch+json";
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  signal?: AbortSignal;
}

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  timeoutSeconds: number;
  /** Abort the watch when no byte arrives for this long (half-open connections). */
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

/** Counts requests by verb (and path), so benchmarks can report API requests per object. */
export interface RequestCounter {
  count(verb: string, path: string): void;
}

export class KubeClient {
  private headers: Record<string, string> = {};
  private headersAt = 0;
  counter?: RequestCounter;

  private constructor(
    private readonly connection: Connection,
    private readonly base: URL,
    private readonly agent: https.Agent | http.Agent,
  ) {}

  /** A client for the connection given, or for the one kubectl would use here (config.ts). */
  static async create(connection?: Connection): Promise<KubeClient> {
    const conn = connection ?? (await loadConnection());
    const base = new URL(conn.server);
    const agent =
      base.protocol === "http:"
        ? new http.Agent({ keepAlive: true, maxSockets: 64 })
        : new https.Agent({ keepAlive: true, maxSockets: 64, ca: conn.ca, cert: conn.cert, key: conn.key, rejectUnauthorized: !conn.skipTLSVerify });
    const client = new KubeClient(conn, base, agent);
    await client.authHeaders();
    return client;
  }

  /** Authorization headers, refreshed each minute (service-account tokens rotate on disk). */
  private async authHeaders(): Promise<Record<string, string>> {
    if (Date.now() - this.headersAt > 60_000) {
      this.headers = await this.connection.headers();
      this.headersAt = Date.now();
    }
    return this.headers;
  }

  get server(): string {
    return this.base.toString();
  }

  private async open(method: string, path: string, o: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
    const body = o.body === undefined ? undefined : typeof o.body === "string" ? o.body : JSON.stringify(o.body);
    const headers: Record<string, string> = { ...(await this.authHeaders()), Accept: "application/json" };
    if (body !== undefined) {
      headers["Content-Type"] = o.contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(body));
    }
    this.counter?.count(method, url.pathname);
    const mod = url.protocol === "http:" ? http : https;
    const send = () =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = mod.request(url, { method, headers, agent: this.agent, signal: o.signal }, resolve);
        if (o.timeoutMs) req.setTimeout(o.timeoutMs, () => req.destroy(new Error(`${method} ${url.pathname}: timed out after ${o.timeoutMs} ms`)));
        req.on("error", (e) => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
        req.end(body);
      });
    try {
      return await send();
    } catch (e) {
      // kube-apiserver closes idle keep-alive connections; a request written to one as it closes
      // fails before any answer. Sent again once on a new connection, as Go's transport does,
      // unless sending twice could do twice (a POST, a JSON patch).
      if (!retriesOnStaleConnection(e, method, headers["Content-Type"])) throw e;
      return send();
    }
  }

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.open(method, path, { timeoutMs: 30_000, ...o });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const status = res.statusCode ?? 0;
    if (status >= 400) throw toApiError(status, text, `${method} ${path}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A GET whose answer is text (pod logs). */
  async requestText(path: string, query: RequestOptions["query"] = {}): Promise<string> {
    const res = await this.open("GET", path, { query, timeoutMs: 30_000 });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    if ((res.statusCode ?? 0) >= 400) throw toApiError(res.statusCode ?? 0, text, `GET ${path}`);
    return text;
  }

  /** A GET whose answer is a stream of text lines (pod logs with follow), until it ends or `signal` aborts. */
  async streamLines(path: string, query: RequestOptions["query"], signal: AbortSignal, onLine: (line: string) => void): Promise<void> {
    const res = await this.open("GET", path, { query, signal });
    if ((res.statusCode ?? 0) >= 400) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw toApiError(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"), `GET ${path}`);
    }
    let rest = "";
    for await (const c of res) {
      rest += (c as Buffer).toString("utf8");
      for (let i = rest.indexOf("\n"); i >= 0; i = rest.indexOf("\n")) {
        onLine(rest.slice(0, i));
        rest = rest.slice(i + 1);
      }
    }
    if (rest) onLine(rest);
  }

  get<T extends KubeObject>(t: ResourceType, namespace: string | undefined, name: string, o: { timeoutMs?: number } = {}): Promise<T> {
    return this.request("GET", resourcePath(t, namespace, name), o);
  }

  async getOrUndefined<T extends KubeObject>(t: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.get<T>(t, namespace, name);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  list<T extends KubeObject>(t: ResourceType, o: ListOptions = {}): Promise<ObjectList<T>> {
    return this.request("GET", resourcePath(t, o.namespace), {
      query: {
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
        limit: o.limit,
        continue: o.continue,
        resourceVersion: o.resourceVersion,
      },
      signal: o.signal,
      timeoutMs: 120_000,
    });
  }

  create<T extends KubeObject>(t: ResourceType, obj: T, o: { dryRun?: boolean; timeoutMs?: number } = {}): Promise<T> {
    return this.request("POST", resourcePath(t, obj.metadata.namespace), {
      body: { apiVersion: apiVersionOf(t), kind: t.kind, ...obj },
      query: { dryRun: o.dryRun ? "All" : undefined },
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    });
  }

  replace<T extends KubeObject>(t: ResourceType, obj: T, o: { subresource?: "status"; timeoutMs?: number } = {}): Promise<T> {
    const path = resourcePath(t, obj.metadata.namespace, obj.metadata.name) + (o.subresource ? `/${o.subresource}` : "");
    return this.request("PUT", path, { body: obj, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
  }

  /** Server-side apply: the caller's fields become owned by fieldManager. */
  apply<T extends KubeObject>(t: ResourceType, obj: T, fieldManager: string, o: { force?: boolean; subresource?: "status" } = {}): Promise<T> {
    const path = resourcePath(t, obj.metadata.namespace, obj.metadata.name) + (o.subresource ? `/${o.subresource}` : "");
    return this.request("PATCH", path, {
      body: { apiVersion: apiVersionOf(t), kind: t.kind, ...obj },
      contentType: "application/apply-patch+yaml",
      query: { fieldManager, force: o.force ?? true },
    });
  }

  /** JSON merge patch, optionally on a subresource ("status", "scale"). */
  mergePatch<T extends KubeObject>(t: ResourceType, namespace: string | undefined, name: string, patch: unknown, subresource?: string): Promise<T> {
    const path = resourcePath(t, namespace, name) + (subresource ? `/${subresource}` : "");
    return this.request("PATCH", path, { body: patch, contentType: "application/merge-patch+json" });
  }

  async delete(t: ResourceType, namespace: string | undefined, name: string, o: { uid?: string; resourceVersion?: string; propagationPolicy?: string; gracePeriodSeconds?: number } = {}): Promise<void> {
    const body: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "v1" };
    if (o.uid || o.resourceVersion) body.preconditions = { ...(o.uid ? { uid: o.uid } : {}), ...(o.resourceVersion ? { resourceVersion: o.resourceVersion } : {}) };
    if (o.propagationPolicy) body.propagationPolicy = o.propagationPolicy;
    if (o.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = o.gracePeriodSeconds;
    await this.request("DELETE", resourcePath(t, namespace, name), { body });
  }

  /**
   * One watch request. Resolves when the server ends the stream (timeoutSeconds elapsed),
   * rejects on errors (a 410 Gone as KubeApiError status 410) or when the watchdog sees no
   * byte for idleTimeoutMs.
   */
  async watch(t: ResourceType, o: WatchOptions, onEvent: (e: WatchEvent) => void): Promise<void> {
    const idle = new AbortController();
    const signal = o.signal ? AbortSignal.any([o.signal, idle.signal]) : idle.signal;
    const res = await this.open("GET", resourcePath(t, o.namespace), {
      query: {
        watch: 1,
        allowWatchBookmarks: true,
        timeoutSeconds: o.timeoutSeconds,
        resourceVersion: o.resourceVersion,
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
      },
      signal,
    });
    if ((res.statusCode ?? 0) >= 400) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw toApiError(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"), `watch ${t.plural}`);
    }
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(new Error(`watch ${t.plural}: no data for ${o.idleTimeoutMs} ms`)), o.idleTimeoutMs);
    };
    arm();
    let buffered = "";
    try {
      for await (const chunk of res) {
        arm();
        buffered += (chunk as Buffer).toString("utf8");
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          const event = JSON.parse(line) as WatchEvent;
          if (event.type === "ERROR") {
            const s = event.object as unknown as { code?: number; reason?: string; message?: string };
            throw new KubeApiError(s.code ?? 500, s.reason ?? "", `watch ${t.plural}: ${s.message ?? "error event"}`);
          }
          onEvent(event);
        }
      }
    } catch (e) {
      if (idle.signal.aborted) throw idle.signal.reason;
      throw e;
    } finally {
      clearTimeout(timer);
      res.destroy();
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

function toApiError(status: number, text: string, what: string): KubeApiError {
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string; details?: unknown };
    return new KubeApiError(status, s.reason ?? "", s.message ?? `${what}: HTTP ${status}`, s.details);
  } catch {
    return new KubeApiError(status, "", `${what}: HTTP ${status}: ${text.slice(0, 200)}`);
  }
}
