// git's object ids computed in-process: how a file on disk is matched to a version of it in
// history, or a content key made to match `git ls-files -s`, without asking git.
import { hashHex } from '../hash.js';

export type HashAlgorithm = 'sha1' | 'sha256';

/** The hash a repository's object ids are made with, from the length of one of them. */
export function algorithmOf(objectId: string): HashAlgorithm {
  return objectId.length === 64 ? 'sha256' : 'sha1';
}

/**
 * The blob id of `content` (text as UTF-8), as `git hash-object` gives it: sha1, or sha256 when
 * `idLength` is 64, as in a sha256 repository.
 */
export function blobId(content: string | Buffer, idLength = 40): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const algorithm = idLength === 64 ? 'sha256' : 'sha1';
  return hashHex(algorithm, Buffer.concat([Buffer.from(`blob ${bytes.length}\0`, 'latin1'), bytes]));
}
