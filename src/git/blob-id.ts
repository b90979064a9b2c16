// git's object id of a blob, computed in-process: how a file on disk is matched to a version of
// it in history without asking git.
import { createHash } from 'node:crypto';

/** The blob id of `text` (sha1, or sha256 when `idLength` is 64, as in a sha256 repository). */
export function blobId(text: string, idLength: number): string {
  const bytes = Buffer.from(text, 'utf8');
  return createHash(idLength === 64 ? 'sha256' : 'sha1')
    .update(`blob ${bytes.length}\0`)
    .update(bytes)
    .digest('hex');
}
