// Users' SSH public keys (registered through Deis /v1/keys, kept on User.spec.sshKeys): their
// form, their fingerprint, and which user a key presented to the git endpoint belongs to.
import { createHash, timingSafeEqual } from "node:crypto";
import type { User } from "../../model/kinds.ts";

const SSH_KEY = /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( .*)?$/;

/** An OpenSSH public key line whose base64 blob is well formed and names the same key type. */
export function isSshPublicKey(line: string): boolean {
  if (!SSH_KEY.test(line)) return false;
  const [type, b64] = line.split(" ");
  const blob = Buffer.from(b64 ?? "", "base64");
  if (blob.length < 4 || blob.toString("base64") !== b64) return false;
  const len = blob.readUInt32BE(0);
  return len > 0 && 4 + len <= blob.length && blob.subarray(4, 4 + len).toString("latin1") === type;
}

/** The key's wire blob (the base64 part of "TYPE BASE64 [COMMENT]"). */
export const keyBlob = (line: string): Buffer => Buffer.from(line.trim().split(/\s+/)[1] ?? "", "base64");

/** The key's MD5 fingerprint as ssh-keygen -l -E md5 prints it ("aa:bb:..."), as Deis showed it. */
export const fingerprint = (line: string) =>
  createHash("md5")
    .update(keyBlob(line))
    .digest("hex")
    .replace(/(..)(?!$)/g, "$1:");

/** The key's SHA-256 fingerprint as ssh-keygen -l prints it ("SHA256:..."). */
export const sha256Fingerprint = (blob: Buffer) => `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;

/** Whether two key lines are the same key (comments aside). */
export const sameKey = (a: string, b: string) => keyBlob(a).equals(keyBlob(b));

export interface KeyOwner {
  user: User;
  /** The key's id as its owner named it in /v1/keys. */
  keyId: string;
  publicKey: string;
}

/**
 * The user who registered this key blob. Every registered key is compared, by SHA-256 digest
 * and in constant time, whatever matches: the time taken says nothing about which key, or
 * whether any, matched.
 */
export function ownerOfKey(users: readonly User[], blob: Buffer): KeyOwner | undefined {
  const want = createHash("sha256").update(blob).digest();
  let found: KeyOwner | undefined;
  for (const user of users) {
    for (const k of user.spec.sshKeys ?? []) {
      const have = createHash("sha256").update(keyBlob(k.publicKey)).digest();
      if (timingSafeEqual(have, want) && !found) found = { user, keyId: k.id, publicKey: k.publicKey };
    }
  }
  return found;
}
