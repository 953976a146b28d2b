// Header rewriting between client and app: hop-by-hop headers stay on their hop, and the app
// learns who called and how (X-Forwarded-For/-Proto/-Host, appended to what a proxy in front
// of the router already set). Transfer-Encoding is kept: node re-frames chunked bodies itself.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "http2-settings"]);

/** Copies headers without hop-by-hop ones, including those the Connection header names. */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = (headers.connection ?? "")
    .toLowerCase()
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

export interface ClientInfo {
  /** The peer's address ("" when unknown). */
  remoteAddress: string;
  /** The client spoke TLS to the router. */
  encrypted: boolean;
}

/** The headers sent to the app: end-to-end headers, Host unchanged, X-Forwarded-* added. */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, client: ClientInfo): OutgoingHttpHeaders {
  const out = endToEndHeaders(headers);
  const remote = client.remoteAddress.startsWith("::ffff:") ? client.remoteAddress.slice(7) : client.remoteAddress;
  const prior = headers["x-forwarded-for"];
  if (remote) out["x-forwarded-for"] = prior ? `${prior}, ${remote}` : remote;
  out["x-forwarded-proto"] = headers["x-forwarded-proto"] ?? (client.encrypted ? "https" : "http");
  const host = headers["x-forwarded-host"] ?? headers.host;
  if (host) out["x-forwarded-host"] = host;
  return out;
}
