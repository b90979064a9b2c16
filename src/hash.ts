// Hex digests of strings for content keys. node:crypto is loaded on first use rather than with
// the module: loading it pulls in node's stream machinery (~4.6 ms of a ~30 ms start-up), and
// many runs hash nothing (`molecule status` in a repository with no config.toml, `--help`).
let crypto: typeof import('node:crypto') | undefined;

export function hashHex(algorithm: 'sha1' | 'sha256', data: string | Buffer): string {
  crypto ??= process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
  return crypto.hash(algorithm, data);
}
