// An error a handler throws to answer 4xx/5xx; each dialect renders it in its own shape.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Per-field messages, for dialects that report them (Deis: {"field": ["message"]}). */
    readonly fields?: Record<string, string[]>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const badRequest = (msg: string, fields?: Record<string, string[]>) => new ApiError(400, msg, fields);
export const unauthorized = (msg = "You must provide a valid Authorization header") => new ApiError(401, msg);
export const forbidden = (msg = "You don't have permission to do this action") => new ApiError(403, msg);
export const notFound = (msg: string) => new ApiError(404, msg);
export const conflict = (msg: string) => new ApiError(409, msg);
export const notImplemented = (msg: string) => new ApiError(501, msg);

/** Maps a Kubernetes API error (client-node ApiException) onto an ApiError, keeping 4xx meaning. */
export function fromKubernetes(err: unknown, what: string): ApiError {
  if (err instanceof ApiError) return err;
  // Berth's own client throws KubeApiError (.status); client-node's ApiException has .code.
  const code = (err as { status?: number }).status ?? (err as { code?: number }).code;
  const body = (err as { body?: unknown }).body;
  let message = err instanceof Error ? err.message : String(err);
  if (typeof body === "string") {
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? message;
    } catch {
      /* not JSON */
    }
  } else if (body && typeof body === "object" && "message" in body) {
    message = String((body as { message: unknown }).message);
  }
  switch (code) {
    case 404:
      return notFound(`${what} not found`);
    case 409:
      return conflict(`${what} already exists or was changed concurrently; retry`);
    case 429:
      return new ApiError(429, `the cluster is busy; retry ${what} shortly`);
    case 400:
    case 422:
      return badRequest(message);
    case 403:
      return forbidden(message);
    default:
      return new ApiError(503, `the cluster could not complete the request for ${what}: ${message}`);
  }
}
