// Waiter's error body for JSON clients, as twosigma/waiter:waiter/src/waiter/util/utils.clj
// (exception->response, build-error-context) renders it: {"waiter-error": {...}}.
import type { ApiError } from "../errors.ts";

interface RequestLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
}

export function waiterError(req: RequestLike, err: ApiError): { "waiter-error": Record<string, unknown> } {
  const friendly = err.fields?.friendly;
  return {
    "waiter-error": {
      message: err.message,
      status: err.status,
      ...(friendly?.length ? { "friendly-error-message": friendly.join("\n") } : {}),
      uri: (req.originalUrl ?? req.url ?? "").split("?")[0],
      "request-method": req.method ?? "",
      host: typeof req.headers.host === "string" ? req.headers.host : "",
      timestamp: new Date().toISOString(),
    },
  };
}
