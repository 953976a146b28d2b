// Request plumbing shared by the tsuru routes: the caller, form fields, JSON streams.
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { badRequest } from "../errors.ts";
import type { Principal } from "../identity/principal.ts";

export type Form = Record<string, string | string[] | undefined>;

/** The caller: set by the aggregated server from front-proxy headers, else from the bearer token. */
export function caller(deps: ApiDeps, req: FastifyRequest): Principal {
  return req.principal ?? deps.identity.authenticate(req.headers.authorization);
}

/** Form body (or query, for DELETE) as a flat record. JSON bodies are accepted too. */
export function form(req: FastifyRequest): Form {
  const body = (req.body && typeof req.body === "object" ? req.body : {}) as Form;
  const query = (req.query ?? {}) as Form;
  return { ...query, ...body };
}

/** tsuru matches form keys without regard to case ("noRestart" = "NoRestart"). */
function lookup(f: Form, key: string): string | string[] | undefined {
  if (key in f) return f[key];
  const lower = key.toLowerCase();
  const k = Object.keys(f).find((x) => x.toLowerCase() === lower);
  return k === undefined ? undefined : f[k];
}

/** A form value as text; JSON bodies may carry numbers and booleans, anything else is a 400. */
function scalar(key: string, v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw badRequest(`Invalid value for ${key}: expected a string`);
}

export function str(f: Form, key: string): string | undefined {
  const v: unknown = lookup(f, key);
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.length ? v.map((x) => scalar(key, x))[0] : undefined;
  return scalar(key, v);
}

export function list(f: Form, key: string): string[] {
  const v: unknown = lookup(f, key);
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map((x) => scalar(key, x)) : [scalar(key, v)];
}

export function required(f: Form, key: string, message?: string): string {
  const v = str(f, key)?.trim();
  if (!v) throw badRequest(message ?? `${key} is required`);
  return v;
}

/**
 * The team a request names, or the caller's only team when the field is missing or empty (the
 * CLI always sends teamOwner=, owner= and team=). With several teams the caller must choose:
 * tsuru's permission.ErrTooManyTeams (tsuru/tsuru:permission/permission.go), a 400.
 */
export function teamOrOnly(p: Principal, value: string | undefined): string {
  const v = value?.trim();
  if (v) return v;
  if (p.teams.size === 1) return [...p.teams][0]!;
  throw badRequest("You must provide a team to execute this action.");
}

/**
 * The API version the client asked for ("1.24" from "/1.24/apps/x/certificate"), or undefined
 * for unversioned paths (which get the newest shape). tsuru registers some paths twice with
 * different answers (tsuru/tsuru:api/server.go: GET /1.2 and /1.24 .../certificate).
 */
export function requestVersion(req: FastifyRequest): [number, number] | undefined {
  const m = /^\/(\d+)\.(\d+)\//.exec(req.originalUrl ?? "");
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Whether the request asks for at least this version (unversioned paths get the newest). */
export function versionAtLeast(req: FastifyRequest, major: number, minor: number): boolean {
  const v = requestVersion(req);
  return !v || v[0] > major || (v[0] === major && v[1] >= minor);
}

/**
 * Answers a WebSocket handshake with one text message and a close. The tsuru CLI opens
 * `app shell` as a WebSocket (golang.org/x/net/websocket) and reports any other status as an
 * opaque "bad status"; over an accepted socket it prints what it receives.
 */
export function websocketMessage(req: FastifyRequest, reply: FastifyReply, text: string): void {
  const key = req.headers["sec-websocket-key"];
  const socket = req.raw.socket;
  reply.hijack();
  if (typeof key !== "string") {
    socket.end("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" + text + "\n");
    return;
  }
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  const payload = Buffer.from(`${text}\r\n`);
  const frame = (opcode: number, body: Buffer) => {
    const head = body.length < 126 ? Buffer.from([0x80 | opcode, body.length]) : Buffer.from([0x80 | opcode, 126, body.length >> 8, body.length & 0xff]);
    return Buffer.concat([head, body]);
  };
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.write(frame(0x1, payload));
  // Close frame with status 1000 (normal closure), then the connection.
  socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
}

export function bool(f: Form, key: string): boolean {
  const v = str(f, key)?.toLowerCase();
  return v === "true" || v === "1";
}

export function int(f: Form, key: string, fallback?: number): number {
  const raw = str(f, key);
  if (raw === undefined || raw === "") {
    if (fallback !== undefined) return fallback;
    throw badRequest(`${key} is required`);
  }
  const n = Number(raw);
  if (!Number.isInteger(n)) throw badRequest(`Invalid ${key}: ${raw} is not a number`);
  return n;
}

/** tsuru's JSON message stream (application/x-json-stream): one {"Message": ...} per line. */
export class JsonStream {
  constructor(private readonly reply: FastifyReply) {
    reply.raw.writeHead(200, { "Content-Type": "application/x-json-stream", "Cache-Control": "no-cache" });
  }
  message(text: string): void {
    this.reply.raw.write(JSON.stringify({ Message: text.endsWith("\n") ? text : `${text}\n`, Timestamp: new Date().toISOString() }) + "\n");
  }
  error(text: string): void {
    this.reply.raw.write(JSON.stringify({ Message: "", Error: text, Timestamp: new Date().toISOString() }) + "\n");
  }
  end(): void {
    this.reply.raw.end();
  }
}

/** Runs work writing to a JSON stream; errors after the header become an Error message. */
export async function streamed(reply: FastifyReply, work: (s: JsonStream) => Promise<void>): Promise<void> {
  reply.hijack(); // we write the raw response ourselves
  const s = new JsonStream(reply);
  try {
    await work(s);
  } catch (e) {
    s.error(e instanceof Error ? e.message : String(e));
  }
  s.end();
}
