// Markdown with YAML front matter: the shape of checkpoints, approvals, comments, feedback and
// gate reports. Machine fields in the front matter (stable key order, one per line), prose below.
import { isMap, LineCounter, parseDocument, stringify } from 'yaml';
import { splitFrontMatter } from './frontmatter-split.js';
import { readWrittenFrontMatter } from './frontmatter-subset.js';

export interface FrontMatter {
  data: Record<string, unknown>;
  body: string;
  /** 1-based line of each top-level key in the file, for error messages. */
  lines: Record<string, number>;
}

export class FrontMatterError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/** Splits and parses `---\n<yaml>\n---\n<body>`. Throws FrontMatterError naming the line. */
export function parseFrontMatter(text: string): FrontMatter {
  const split = splitFrontMatter(text);
  if ('missing' in split)
    throw new FrontMatterError(
      split.missing === 'open'
        ? 'missing front matter: the file must start with a line `---`'
        : 'front matter is not closed: add a line `---` after the fields',
      1,
    );
  const { yaml: yamlText, body } = split;
  const written = readWrittenFrontMatter(yamlText);
  if (written) return { ...written, body };
  return parseYamlFrontMatter(yamlText, body);
}

/** The YAML parser's reading of a front matter block, for anything the subset reader declines. */
export function parseYamlFrontMatter(yamlText: string, body: string): FrontMatter {
  const counter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: counter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e?.linePos?.[0]?.line;
    const first = (e?.message ?? 'invalid YAML').split('\n')[0] ?? 'invalid YAML';
    throw new FrontMatterError(
      `front matter is not valid YAML: ${first.replace(/ at line \d+, column \d+:?$/, '')}`,
      line === undefined ? undefined : line + 1,
    );
  }
  const lines: Record<string, number> = {};
  if (isMap(doc.contents)) {
    for (const item of doc.contents.items) {
      const key = (item.key as { value?: unknown } | null)?.value;
      const range = (item.key as { range?: [number, number, number] } | null)?.range;
      if (typeof key === 'string' && range) lines[key] = counter.linePos(range[0]).line + 1;
    }
  } else if (doc.contents !== null) {
    throw new FrontMatterError('front matter must be a list of `key: value` fields', 2);
  }
  const data = (doc.toJS() ?? {}) as Record<string, unknown>;
  return { data, body, lines };
}

/**
 * Renders front matter in the key order given. Undefined values are left out; `comments` adds
 * `# text` after a key's value (how a file tells its reader what may be written there).
 */
export function renderFrontMatter(
  fields: Record<string, unknown>,
  comments: Record<string, string> = {},
): string {
  const out: string[] = ['---'];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const rendered = stringify(
      { [key]: value },
      { lineWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN' },
    ).trimEnd();
    const note = comments[key];
    if (note && !rendered.includes('\n')) out.push(`${rendered} # ${note}`);
    else out.push(rendered);
  }
  out.push('---');
  return `${out.join('\n')}\n`;
}
