// A JSON text with a few entries of one object changed, made by editing the previous text's
// bytes instead of serializing the whole object again: a hook that changes one molecule's summary
// in a file of ten thousand (3.3 MB) copies the rest as it is.

/** Keys JavaScript orders by number, or that an assignment treats specially: left to a full write. */
const SPECIAL_KEY = /^(?:0|[1-9]\d{0,9})$|^__proto__$/;

interface Edit {
  at: number;
  end: number;
  text: string;
}

/** The bytes of `shell` (whose `field` is an empty object) before and after that object's body. */
function around(shell: object, field: string): [string, string] | undefined {
  const empty = JSON.stringify(shell);
  const marker = `${JSON.stringify(field)}:{}`;
  const cut = empty.indexOf(marker);
  if (cut < 0 || empty.indexOf(marker, cut + 1) >= 0) return undefined;
  return [empty.slice(0, cut + marker.length - 1), empty.slice(cut + marker.length - 1)];
}

/**
 * What `JSON.stringify({...next, [field]: object})` gives, where `object` is `was` with each key
 * of `drop` deleted and then each entry of `set` assigned in order, built from `previous` (the
 * text of `shell` with `was` as `field`, as JSON.stringify wrote it). Each changed entry is found
 * by its exact bytes (`"key":<JSON of its old value>`, once, between entries); undefined when the
 * shell's bytes, or any entry's, are not there as expected, or a key is one JavaScript orders by
 * number: the caller then serializes the whole object. `shell[field]` and `next[field]` must be
 * empty objects; `next` (the new shell, default `shell`) may differ from `shell` elsewhere.
 */
export function withEntries(
  previous: string,
  shell: object,
  field: string,
  was: Record<string, unknown>,
  drop: Iterable<string>,
  set: Record<string, unknown>,
  next: object = shell,
): string | undefined {
  const old = around(shell, field);
  const now = next === shell ? old : around(next, field);
  if (!old || !now) return undefined;
  const [head, tail] = old;
  if (previous.length < head.length + tail.length || !previous.startsWith(head) || !previous.endsWith(tail))
    return undefined;
  const bodyStart = head.length;
  const bodyEnd = previous.length - tail.length;
  const find = (key: string): [number, number] | undefined => {
    const value = JSON.stringify(was[key]);
    if (value === undefined) return undefined;
    const bytes = `${JSON.stringify(key)}:${value}`;
    const at = previous.indexOf(bytes, bodyStart);
    const end = at + bytes.length;
    if (at < 0 || end > bodyEnd || previous.indexOf(bytes, at + 1) >= 0) return undefined;
    const before = previous[at - 1];
    const after = previous[end];
    if ((before !== '{' && before !== ',') || (after !== ',' && after !== '}')) return undefined;
    return [at, end];
  };
  let count = Object.keys(was).length;
  // Nothing parsed (a torn or foreign file read as empty): only an empty object is as expected.
  if (count === 0 && bodyEnd !== bodyStart) return undefined;
  const removed = new Set<string>();
  const gone: [number, number][] = [];
  for (const key of drop) {
    if (removed.has(key) || !Object.hasOwn(was, key)) continue;
    if (SPECIAL_KEY.test(key)) return undefined;
    const range = find(key);
    if (!range) return undefined;
    gone.push(range);
    removed.add(key);
    count--;
  }
  const edits: Edit[] = [];
  const added: string[] = [];
  for (const [key, value] of Object.entries(set)) {
    if (SPECIAL_KEY.test(key)) return undefined;
    const text = JSON.stringify(value);
    if (text === undefined) return undefined;
    if (Object.hasOwn(was, key) && !removed.has(key)) {
      const range = find(key);
      if (!range) return undefined;
      edits.push({ at: range[0] + JSON.stringify(key).length + 1, end: range[1], text });
    } else added.push(`${JSON.stringify(key)}:${text}`);
  }
  // Entries removed side by side go as one run, with one of the commas around it.
  gone.sort((a, b) => a[0] - b[0]);
  for (let i = 0; i < gone.length; ) {
    const [start] = gone[i] as [number, number];
    let end = (gone[i] as [number, number])[1];
    for (i++; i < gone.length && (gone[i] as [number, number])[0] === end + 1; i++)
      end = (gone[i] as [number, number])[1];
    if (previous[start - 1] === ',') edits.push({ at: start - 1, end, text: '' });
    else if (previous[end] === ',') edits.push({ at: start, end: end + 1, text: '' });
    else edits.push({ at: start, end, text: '' });
  }
  if (added.length > 0)
    edits.push({ at: bodyEnd, end: bodyEnd, text: (count > 0 ? ',' : '') + added.join(',') });
  edits.sort((a, b) => a.at - b.at || a.end - b.end);
  const parts: string[] = [now[0]];
  let from = bodyStart;
  for (const e of edits) {
    if (e.at < from) return undefined;
    parts.push(previous.slice(from, e.at), e.text);
    from = e.end;
  }
  parts.push(previous.slice(from, bodyEnd), now[1]);
  return parts.join('');
}
