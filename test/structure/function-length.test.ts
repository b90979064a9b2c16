// No function in src/ is longer than a reader can hold at once (issue 15, item 5): every
// function, method, accessor and arrow function body spans at most MAX_LINES lines, counted from
// the line of its opening brace to the line of its closing one. A nested function counts inside
// its parent too, so moving code into a local closure does not shorten anything.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const MAX_LINES = 80;

/**
 * Functions that are data: one entry per row of a table, longer by nature. Key: file › function,
 * value: why it is a table. None in src/ today; a function that grows a table goes here.
 */
const DATA_TABLES: Record<string, string> = {};

/**
 * Functions over the limit that are waiting to be split, each pinned at its line count: it may
 * shrink, not grow. None today; delete an entry once its function is under the limit (the last
 * test below says when).
 */
const KNOWN_OFFENDERS: Record<string, number> = {};

interface FunctionSpan {
  /** src-relative file › dotted function name, the key of the lists above. */
  key: string;
  /** file:line, where the function starts. */
  where: string;
  lines: number;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(abs));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(abs);
  }
  return out;
}

/** The name a reader would search for: `Class.method`, `outer.inner`, `outer.<arrow@12>`. */
function ownName(node: ts.Node, sf: ts.SourceFile): string | undefined {
  const named = (n: ts.Node | undefined) =>
    n && (ts.isIdentifier(n) || ts.isStringLiteral(n) || ts.isPrivateIdentifier(n)) ? n.text : undefined;
  if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) return named(node.name) ?? '<class>';
  if (!ts.isFunctionLike(node)) return undefined;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const own = 'name' in node ? named(node.name as ts.Node | undefined) : undefined;
  if (own) return own;
  const p = node.parent;
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p))
    return named(p.name) ?? '<anonymous>';
  const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  return `<${ts.isArrowFunction(node) ? 'arrow' : 'function'}@${line}>`;
}

function functionSpans(abs: string): FunctionSpan[] {
  const file = relative(SRC, abs);
  const sf = ts.createSourceFile(abs, readFileSync(abs, 'utf8'), ts.ScriptTarget.Latest, true);
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const out: FunctionSpan[] = [];
  const visit = (node: ts.Node, scope: string[]) => {
    const name = ownName(node, sf);
    const inner = name === undefined ? scope : [...scope, name];
    const body = ts.isFunctionLike(node) ? (node as ts.FunctionLikeDeclaration).body : undefined;
    if (body) {
      out.push({
        key: `${file} › ${inner.join('.')}`,
        where: `${file}:${lineOf(node.getStart(sf))}`,
        lines: lineOf(body.getEnd()) - lineOf(body.getStart(sf)) + 1,
      });
    }
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(sf, []);
  return out;
}

const spans = sourceFiles(SRC).flatMap(functionSpans);
const byKey = new Map(spans.map((s) => [s.key, s]));

describe(`functions under src/ (at most ${MAX_LINES} lines each)`, () => {
  it('are read: a known function is found with its length', () => {
    const s = byKey.get('formula/resolve.ts › resolveSource');
    expect(s?.lines).toBeGreaterThan(3);
    expect(s?.lines).toBeLessThan(MAX_LINES);
    expect(spans.length).toBeGreaterThan(500);
  });

  it(`none is over ${MAX_LINES} lines unless listed`, () => {
    const over = spans
      .filter((s) => s.lines > MAX_LINES && !(s.key in DATA_TABLES) && !(s.key in KNOWN_OFFENDERS))
      .map((s) => `${s.where} ${s.key.split(' › ')[1]}: ${s.lines} lines`);
    expect(over).toEqual([]);
  });

  it('known offenders do not grow, and leave the list once they are short', () => {
    const wrong: string[] = [];
    for (const [key, pinned] of Object.entries(KNOWN_OFFENDERS)) {
      const s = byKey.get(key);
      if (!s) wrong.push(`${key}: not found (renamed or removed? drop the entry)`);
      else if (s.lines > pinned) wrong.push(`${s.where} ${key}: ${s.lines} lines, pinned at ${pinned}`);
      else if (s.lines <= MAX_LINES) wrong.push(`${s.where} ${key}: ${s.lines} lines now, drop the entry`);
    }
    expect(wrong).toEqual([]);
  });

  it('data-table entries still name a function', () => {
    expect(Object.keys(DATA_TABLES).filter((k) => !byKey.has(k))).toEqual([]);
  });
});
