// Commit trailers that record transitions: `Gastown-Done: <molecule>/<step>` (also -Fail, -Start).
// Keys are case-insensitive and several may appear; only the message's last paragraph (the
// trailer block, as git defines it) is read, so prose that quotes a trailer does nothing.

export interface Trailer {
  kind: 'done' | 'fail' | 'start';
  molecule: string;
  step: string;
}

const TRAILER = /^gastown-(done|fail|start)\s*:\s*([^/\s]+)\/(\S+)\s*$/i;

export function parseTrailers(message: string): Trailer[] {
  const paragraphs = message
    .replace(/\r\n/g, '\n')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const last = paragraphs.length > 1 ? paragraphs[paragraphs.length - 1] : undefined;
  if (!last) return [];
  const out: Trailer[] = [];
  for (const line of last.split('\n')) {
    const m = TRAILER.exec(line.trim());
    if (m)
      out.push({
        kind: (m[1] as string).toLowerCase() as Trailer['kind'],
        molecule: m[2] as string,
        step: m[3] as string,
      });
  }
  return out;
}

/** The trailer as written: `Gastown-Done: m1/design`. */
export function formatTrailer(t: Trailer): string {
  return `Gastown-${t.kind[0]?.toUpperCase()}${t.kind.slice(1)}: ${t.molecule}/${t.step}`;
}
