// The trailer grammar, in one place. Transitions are asked for with `Gastown-Done: <molecule>/<step>`
// (also -Fail, -Start); engine commits carry `Gastown-Molecule` and `Gastown-Transition`. Keys are
// case-insensitive, blanks may stand before the colon (as git's own trailer parser allows), and
// several may appear; only the message's last paragraph (the trailer block, as git defines it)
// is applied, so prose that quotes a trailer does nothing. hooks/runner.sh repeats the key test
// as a fast filter; test/triggers/runner-rules.test.ts pins it to this module.

export const TRAILER_KINDS = ['done', 'fail', 'start'] as const;

export interface Trailer {
  kind: (typeof TRAILER_KINDS)[number];
  molecule: string;
  step: string;
}

/** Keys the engine writes on its own commits (src/triggers/commit.ts). */
export const MOLECULE_KEY = 'Gastown-Molecule';
export const TRANSITION_KEY = 'Gastown-Transition';

const ACTION_KEY = `gastown-(${TRAILER_KINDS.join('|')})`;
const TRAILER = new RegExp(`^${ACTION_KEY}\\s*:\\s*([^/\\s]+)\\/(\\S+)\\s*$`, 'i');
/** A line of the message that starts with an action key: the cheap test before parsing. */
const ACTION_LINE = new RegExp(`^${ACTION_KEY}[ \\t]*:`, 'im');
const ENGINE_LINE = new RegExp(`^${MOLECULE_KEY}[ \\t]*:`, 'im');

/** The action-key test as a POSIX extended pattern for `git log -i -E --grep`. */
export const ACTION_TRAILER_GREP = `^${ACTION_KEY}[[:blank:]]*:`;

/** Some line starts with an action key: the commit may ask for a transition. */
export function hasActionTrailer(message: string): boolean {
  return ACTION_LINE.test(message);
}

/** An engine commit names molecules but asks for no transition itself. */
export function isEngineCommit(message: string): boolean {
  return ENGINE_LINE.test(message) && !ACTION_LINE.test(message);
}

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

/** The molecules the message's trailers name, each once. */
export function trailerMolecules(message: string): string[] {
  return [...new Set(parseTrailers(message).map((t) => t.molecule))];
}

/** The trailer as written: `Gastown-Done: m1/design`. */
export function formatTrailer(t: Trailer): string {
  return `Gastown-${t.kind[0]?.toUpperCase()}${t.kind.slice(1)}: ${t.molecule}/${t.step}`;
}
