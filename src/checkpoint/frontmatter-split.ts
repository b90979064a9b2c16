// Where a markdown file's front matter is: the one rule for `---\n<yaml>\n---\n<body>`, kept apart
// from the YAML parser so that hot paths (mail's fast reader, decision comparisons) can find the
// block without loading it. A BOM is ignored and CRLF read as LF; the closing `---` may carry
// trailing blanks and may end the file.

export type FrontMatterSplit = { yaml: string; body: string } | { missing: 'open' | 'close' };

export function splitFrontMatter(text: string): FrontMatterSplit {
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  if (!src.startsWith('---\n')) return { missing: 'open' };
  const end = src.indexOf('\n---', 3);
  if (end < 0 || !/^[ \t]*(\n|$)/.test(src.slice(end + 4))) return { missing: 'close' };
  const afterClose = src.indexOf('\n', end + 4);
  return { yaml: src.slice(4, end + 1), body: afterClose < 0 ? '' : src.slice(afterClose + 1) };
}

/** The text opens a front matter block (closed or not). */
export function opensFrontMatter(text: string): boolean {
  const split = splitFrontMatter(text);
  return !('missing' in split) || split.missing === 'close';
}
