// A minimal XML reader for test-runner reports (JUnit). It builds an element tree with
// attributes and text; it skips declarations, comments, processing instructions and DOCTYPE,
// keeps CDATA as text, and decodes the five named entities plus numeric ones. No DTDs, no
// namespaces, no external entities: nothing in a report can make it fetch or expand anything.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text and CDATA directly inside this element. */
  text: string;
}

export class XmlError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`${message} (line ${line})`);
  }
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return safeCodePoint(Number.parseInt(ref.slice(2), 16)) ?? whole;
    if (ref.startsWith('#')) return safeCodePoint(Number.parseInt(ref.slice(1), 10)) ?? whole;
    return NAMED[ref] ?? whole;
  });
}

function safeCodePoint(n: number): string | undefined {
  return Number.isFinite(n) && n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

const NAME = /[A-Za-z_:][\w:.-]*/y;
const ATTR = /\s*([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/y;

/** Parses a document and returns its root element. Throws XmlError on malformed input. */
export function parseXml(text: string): XmlElement {
  let i = 0;
  const lineAt = (pos: number) => {
    let n = 1;
    for (let k = 0; k < pos && k < text.length; k++) if (text.charCodeAt(k) === 10) n++;
    return n;
  };
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const skipPast = (end: string, what: string) => {
    const at = text.indexOf(end, i);
    if (at < 0) throw new XmlError(`unterminated ${what}`, lineAt(i));
    i = at + end.length;
  };
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    const top = stack[stack.length - 1];
    if (chunk.length > 0) {
      if (top) top.text += decodeEntities(chunk);
      else if (chunk.trim() !== '') throw new XmlError('text outside the root element', lineAt(i));
    }
    if (lt < 0) break;
    i = lt;
    if (text.startsWith('<?', i)) skipPast('?>', 'processing instruction');
    else if (text.startsWith('<!--', i)) skipPast('-->', 'comment');
    else if (text.startsWith('<![CDATA[', i)) {
      const start = i + 9;
      skipPast(']]>', 'CDATA section');
      if (top) top.text += text.slice(start, i - 3);
    } else if (text.startsWith('<!', i)) skipPast('>', 'declaration');
    else if (text.startsWith('</', i)) {
      NAME.lastIndex = i + 2;
      const m = NAME.exec(text);
      if (!m) throw new XmlError('malformed closing tag', lineAt(i));
      const open = stack.pop();
      if (!open || open.name !== m[0])
        throw new XmlError(`closing tag </${m[0]}> does not match <${open?.name ?? ''}>`, lineAt(i));
      i = NAME.lastIndex;
      while (i < text.length && /\s/.test(text[i] as string)) i++;
      if (text[i] !== '>') throw new XmlError('malformed closing tag', lineAt(i));
      i++;
    } else {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(text);
      if (!m) throw new XmlError('malformed tag', lineAt(i));
      const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
      i = NAME.lastIndex;
      for (;;) {
        ATTR.lastIndex = i;
        const a = ATTR.exec(text);
        if (!a) break;
        el.attrs[a[1] as string] = decodeEntities(a[3] ?? a[4] ?? '');
        i = ATTR.lastIndex;
      }
      while (i < text.length && /\s/.test(text[i] as string)) i++;
      let selfClosing = false;
      if (text.startsWith('/>', i)) {
        selfClosing = true;
        i += 2;
      } else if (text[i] === '>') i++;
      else throw new XmlError(`malformed tag <${el.name}>`, lineAt(i));
      if (top) top.children.push(el);
      else if (root) throw new XmlError('more than one root element', lineAt(i));
      else root = el;
      if (!selfClosing) stack.push(el);
    }
  }
  if (stack.length > 0)
    throw new XmlError(`element <${stack[stack.length - 1]?.name}> is not closed`, lineAt(text.length));
  if (!root) throw new XmlError('no root element', 1);
  return root;
}
