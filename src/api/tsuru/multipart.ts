// multipart/form-data, as the tsuru CLI sends deploys and platform Dockerfiles: text fields
// become the request's form, files are kept beside the request (read with uploadOf).
import type { IncomingMessage } from "node:http";
import type { FastifyRequest } from "fastify";

export interface Upload {
  files: Record<string, { filename: string; data: Buffer }>;
  /** Set when the body passed the limit (the rest was read and dropped). */
  tooLarge?: number;
}

const uploads = new WeakMap<IncomingMessage, Upload>();

export const uploadOf = (req: FastifyRequest): Upload | undefined => uploads.get(req.raw);

export class MultipartError extends Error {}

/** Splits a multipart body into text fields and files. Throws MultipartError on a malformed one. */
export function parseMultipart(body: Buffer, contentType: string): { fields: Record<string, string[]>; files: Upload["files"] } {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new MultipartError("multipart body without a boundary");
  const delim = Buffer.from(`--${boundary}`);
  const fields: Record<string, string[]> = {};
  const files: Upload["files"] = {};
  let pos = body.indexOf(delim);
  if (pos < 0) throw new MultipartError("multipart body without its boundary");
  for (;;) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === "--") break;
    const headEnd = body.indexOf("\r\n\r\n", pos);
    if (headEnd < 0) throw new MultipartError("truncated multipart body");
    const head = body.subarray(pos, headEnd).toString("utf8");
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delim]), headEnd + 4);
    if (next < 0) throw new MultipartError("truncated multipart body");
    const data = body.subarray(headEnd + 4, next);
    const disp = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(head)?.[1] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disp)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disp)?.[1];
    if (name !== undefined) {
      if (filename !== undefined) files[name] = { filename, data: Buffer.from(data) };
      else (fields[name] ??= []).push(data.toString("utf8"));
    }
    pos = next + 2;
  }
  return { fields, files };
}

/** A Fastify content-type parser for multipart/form-data, reading at most limit bytes. */
export function multipartParser(limit: number) {
  return (req: FastifyRequest, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: unknown) => void) => {
    const chunks: Buffer[] = [];
    let size = 0;
    payload.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    payload.on("error", (e: Error) => done(e));
    payload.on("end", () => {
      if (size > limit) {
        uploads.set(req.raw, { files: {}, tooLarge: size });
        return done(null, {});
      }
      try {
        const { fields, files } = parseMultipart(Buffer.concat(chunks), String(req.headers["content-type"] ?? ""));
        uploads.set(req.raw, { files });
        done(null, Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.length === 1 ? v[0] : v])));
      } catch (e) {
        uploads.set(req.raw, { files: {} });
        done(null, { multipartError: (e as Error).message });
      }
    });
  };
}
