// Bearer tokens (auth: {enabled, tokens_file}). A token is `cnc_<id>_<secret>`; the file keeps
// only its SHA-256, compared in constant time. `conclave token create|revoke|list` edits the
// file; a running server re-reads it when it changes (checked at most once a second).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const TOKENS_FILE = 'tokens.json';

interface TokenRecord {
  readonly id: string;
  readonly sha256: string;
  readonly created: string;
  revoked: string | null;
}

interface TokensDoc {
  readonly version: 1;
  readonly tokens: TokenRecord[];
}

export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
}

export function tokensPath(dataDir: string, tokensFile: string | null): string {
  return tokensFile ?? join(dataDir, TOKENS_FILE);
}

function hash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function readTokens(path: string): TokensDoc {
  if (!existsSync(path)) return { version: 1, tokens: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TokenFileError(`${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const d = doc as Partial<TokensDoc>;
  if (d?.version !== 1 || !Array.isArray(d.tokens)) throw new TokenFileError(`${path}: not a Conclave tokens file (version 1)`);
  return d as TokensDoc;
}

function writeTokens(path: string, doc: TokensDoc): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}

export function createToken(path: string): { id: string; token: string } {
  const doc = readTokens(path);
  const id = randomBytes(4).toString('hex');
  const token = `cnc_${id}_${randomBytes(24).toString('base64url')}`;
  doc.tokens.push({ id, sha256: hash(token).toString('hex'), created: new Date().toISOString(), revoked: null });
  writeTokens(path, doc);
  return { id, token };
}

export function revokeToken(path: string, id: string): boolean {
  const doc = readTokens(path);
  const t = doc.tokens.find((x) => x.id === id);
  if (t === undefined) return false;
  t.revoked ??= new Date().toISOString();
  writeTokens(path, doc);
  return true;
}

export function listTokens(path: string): ReadonlyArray<{ id: string; created: string; revoked: string | null }> {
  return readTokens(path).tokens.map((t) => ({ id: t.id, created: t.created, revoked: t.revoked }));
}

export type AuthResult = { readonly ok: true } | { readonly ok: false; readonly status: 401 | 403; readonly message: string };

/** Checks `Authorization: Bearer <token>` against the tokens file. */
export class TokenAuth {
  private doc: TokensDoc = { version: 1, tokens: [] };
  private mtimeMs = -1;
  private checkedAt = 0;

  constructor(private readonly path: string) {
    this.reload(true);
  }

  private reload(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    const m = existsSync(this.path) ? statSync(this.path).mtimeMs : 0;
    if (m === this.mtimeMs) return;
    this.doc = readTokens(this.path);
    this.mtimeMs = m;
  }

  check(header: string | undefined): AuthResult {
    try {
      this.reload(false);
    } catch {
      /* keep the last good copy */
    }
    if (header === undefined || !/^Bearer\s+\S+$/i.test(header)) return { ok: false, status: 401, message: 'missing bearer token (send Authorization: Bearer <token>)' };
    const token = header.replace(/^Bearer\s+/i, '');
    const id = /^cnc_([0-9a-f]{8})_/.exec(token)?.[1];
    const rec = id === undefined ? undefined : this.doc.tokens.find((t) => t.id === id);
    const given = hash(token);
    // Compare against a stored hash (or a dummy one) in constant time either way.
    const stored = rec !== undefined ? Buffer.from(rec.sha256, 'hex') : Buffer.alloc(32);
    const match = stored.length === given.length && timingSafeEqual(stored, given) && rec !== undefined;
    if (!match) return { ok: false, status: 401, message: 'unknown bearer token' };
    if (rec.revoked !== null) return { ok: false, status: 403, message: `token ${rec.id} was revoked at ${rec.revoked}` };
    return { ok: true };
  }
}
