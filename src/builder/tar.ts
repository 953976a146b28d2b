// A small tar reader and writer (ustar, with pax and GNU long names read; pax written for long
// names): enough to read an uploaded source archive and write it as an image layer.
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";

export type EntryType = "file" | "dir" | "symlink" | "link";

export interface TarEntry {
  path: string;
  type: EntryType;
  mode: number;
  data: Buffer;
  linkname?: string;
}

export class ArchiveError extends Error {}

const BLOCK = 512;

function field(h: Buffer, off: number, len: number): string {
  const s = h.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul < 0 ? len : nul).toString("utf8");
}

function octal(h: Buffer, off: number, len: number): number {
  // GNU base-256 for large values: the high bit of the first byte.
  if (h[off]! & 0x80) {
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + h[i]!;
    return n;
  }
  const s = field(h, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString("utf8"), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/** A relative path without "." parts, or undefined for one that leaves the root ("..", absolute). */
export function cleanPath(p: string): string | undefined {
  const parts: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") return undefined;
    parts.push(part);
  }
  return parts.join("/");
}

/** The entries of an uncompressed tar archive; throws ArchiveError on a malformed one. */
export function readTar(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== octal(h, 148, 8)) throw new ArchiveError(`not a tar archive (bad header checksum at byte ${off})`);
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156]!);
    const dataStart = off + BLOCK;
    if (dataStart + size > buf.length) throw new ArchiveError("truncated tar archive");
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x") { pax = paxRecords(data); continue; }
    if (type === "g") continue;
    if (type === "L") { longName = field(data, 0, data.length); continue; }
    if (type === "K") { longLink = field(data, 0, data.length); continue; }
    const prefix = h.subarray(257, 262).toString("latin1") === "ustar" ? field(h, 345, 155) : "";
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    const linkname = pax.linkpath ?? longLink ?? field(h, 157, 100);
    pax = {};
    longName = longLink = undefined;
    const kind: EntryType | undefined = type === "0" || type === "\0" || type === "7" ? "file" : type === "5" ? "dir" : type === "2" ? "symlink" : type === "1" ? "link" : undefined;
    if (!kind) continue; // devices, fifos: not part of an app's source
    const path = cleanPath(name);
    if (path === undefined) throw new ArchiveError(`unsafe path in archive: ${name}`);
    if (path === "") continue;
    out.push({ path, type: kind, mode: octal(h, 100, 8) & 0o7777, data: kind === "file" ? Buffer.from(data) : Buffer.alloc(0), ...(kind === "symlink" || kind === "link" ? { linkname } : {}) });
  }
  return out;
}

function header(name: string, type: string, mode: number, size: number, linkname = ""): Buffer {
  const h = Buffer.alloc(BLOCK);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, "utf8");
  const num = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, "0"), off, len - 1);
  put(name, 0, 100);
  num(mode, 100, 8);
  num(0, 108, 8);
  num(0, 116, 8);
  num(size, 124, 12);
  num(0, 136, 12); // mtime 0: the same files make the same layer
  h.fill(0x20, 148, 156);
  put(type, 156, 1);
  put(linkname, 157, 100);
  put("ustar\u000000", 257, 8);
  put("root", 265, 32);
  put("root", 297, 32);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  put(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8);
  return h;
}

const pad = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

function paxHeader(path: string, linkname: string): Buffer[] {
  const recs = [path.length >= 100 ? ["path", path] : undefined, linkname.length >= 100 ? ["linkpath", linkname] : undefined].filter((r): r is string[] => !!r);
  if (!recs.length) return [];
  const body = Buffer.concat(
    recs.map(([k, v]) => {
      const rest = ` ${k}=${v}\n`;
      let len = Buffer.byteLength(rest) + 1;
      while (String(len).length + Buffer.byteLength(rest) !== len) len = String(len).length + Buffer.byteLength(rest);
      return Buffer.from(`${len}${rest}`);
    }),
  );
  return [header("PaxHeader", "x", 0o644, body.length), body, pad(body.length)];
}

/** A reproducible tar archive (sorted by path, owner root, mtime 0) of the entries. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const name = e.type === "dir" ? `${e.path}/` : e.path;
    const link = e.linkname ?? "";
    parts.push(...paxHeader(name, link));
    const type = { file: "0", dir: "5", symlink: "2", link: "1" }[e.type];
    const size = e.type === "file" ? e.data.length : 0;
    parts.push(header(name.slice(0, 100), type, e.mode, size, link.slice(0, 100)));
    if (size) parts.push(e.data, pad(size));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

export const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Gunzips an upload, refusing one that unpacks to more than maxBytes. */
export function gunzipLimited(buf: Buffer, maxBytes: number): Buffer {
  try {
    return gunzipSync(buf, { maxOutputLength: maxBytes });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") throw new ArchiveError(`the archive unpacks to more than ${Math.round(maxBytes / 2 ** 20)} MiB`);
    throw new ArchiveError(`the upload is not a gzip archive: ${(e as Error).message}`);
  }
}

/** Gzip without a timestamp or name: the same tar makes the same blob. */
export const gzip = (b: Buffer) => gzipSync(b, { level: 6 });
