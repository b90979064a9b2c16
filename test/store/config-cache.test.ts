// config.toml parsed once per content: the cached parse is used only for the very same text, so an
// edit takes effect on the next command, and what JSON cannot carry is never cached.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/store/config.js';
import { tempDir } from '../helpers/repo.js';

const agents = (n: number) =>
  Array.from({ length: n }, (_, i) => `[agents.agent-${i}]\nemails = ["agent-${i}@example.com"]\n`).join(
    '\n',
  );

describe('config parse cache', () => {
  let dir: ReturnType<typeof tempDir> | undefined;
  afterEach(() => dir?.cleanup());

  it('answers from the cache only while the text is the same', () => {
    dir = tempDir();
    const root = dir.path;
    mkdirSync(join(root, '.beads'));
    const file = join(root, '.beads/config.toml');
    writeFileSync(file, `[engine]\ncommit = true\n\n${agents(60)}`);
    expect(loadConfig(root).engine.commit).toBe(true);
    const cached = join(root, '.beads/.cache/config.json');
    expect(existsSync(cached)).toBe(true);
    expect(Object.keys(loadConfig(root).agents)).toHaveLength(60);
    // An entry for the same text is what the next run reads (here: doctored to prove it).
    const entry = JSON.parse(readFileSync(cached, 'utf8'));
    entry.doc.engine.author_name = 'from-cache';
    writeFileSync(cached, JSON.stringify(entry));
    expect(loadConfig(root).engine.author_name).toBe('from-cache');
    // Any edit to the file is a miss.
    writeFileSync(file, `[engine]\ncommit = fals\n\n${agents(60)}`.replace('fals', 'false'));
    expect(loadConfig(root).engine.commit).toBe(false);
    expect(loadConfig(root).engine.author_name).toBe('gastown');
  });

  it('answers a five-line config from the cache too', () => {
    dir = tempDir();
    const root = dir.path;
    mkdirSync(join(root, '.beads'));
    writeFileSync(
      join(root, '.beads/config.toml'),
      '[engine]\ncommit = false\n\n[users.jgil]\nemails = ["jgil@example.com"]\n',
    );
    expect(loadConfig(root).users.jgil?.emails).toEqual(['jgil@example.com']);
    const cached = join(root, '.beads/.cache/config.json');
    const entry = JSON.parse(readFileSync(cached, 'utf8'));
    entry.doc.engine.author_name = 'from-cache';
    writeFileSync(cached, JSON.stringify(entry));
    expect(loadConfig(root).engine.author_name).toBe('from-cache');
  });

  it('never caches a document with values JSON cannot carry', () => {
    dir = tempDir();
    const root = dir.path;
    mkdirSync(join(root, '.beads'));
    writeFileSync(join(root, '.beads/config.toml'), `since = 2026-01-06T09:00:00Z\n${agents(60)}`);
    expect(loadConfig(root).extra.since).toBeInstanceOf(Date);
    expect(existsSync(join(root, '.beads/.cache/config.json'))).toBe(false);
  });
});
