// HTTP calls to Berth's API from tests: form, JSON or raw bodies, a token, the whole answer.
export interface Res {
  status: number;
  text: string;
  headers: Headers;
  json<T = unknown>(): T;
}

export interface CallOptions {
  token?: string;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string | string[]>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as multipart/form-data (fetch sets the boundary). */
  body?: FormData;
  /** Sent as it is, with contentType. */
  raw?: string;
  contentType?: string;
  /** "bearer" (tsuru) or "token" (Deis). */
  scheme?: string;
  /** Further request headers. */
  headers?: Record<string, string>;
}

export async function call(base: string, method: string, path: string, o: CallOptions = {}): Promise<Res> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.Authorization = `${o.scheme ?? "bearer"} ${o.token}`;
  let body: string | FormData | undefined;
  if (o.form) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(o.form)) for (const x of Array.isArray(v) ? v : [v]) params.append(k, x);
    body = params.toString();
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  } else if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers["Content-Type"] = "application/json";
  } else if (o.body) {
    body = o.body;
  } else if (o.raw !== undefined) {
    body = o.raw;
    headers["Content-Type"] = o.contentType ?? "application/json";
  }
  // GET and HEAD carry no body: form fields go into the query string, other bodies are dropped.
  if (method === "GET" || method === "HEAD") {
    const query = o.form ? (body as string) : undefined;
    body = undefined;
    delete headers["Content-Type"];
    if (query) path += (path.includes("?") ? "&" : "?") + query;
  }
  const r = await fetch(`${base}${path}`, { method, headers, body });
  const text = await r.text();
  return { status: r.status, text, headers: r.headers, json: <T>() => JSON.parse(text) as T };
}
