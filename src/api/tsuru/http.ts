// Request plumbing shared by the tsuru routes: the caller, form fields, JSON streams.
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
