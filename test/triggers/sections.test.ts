// The marked block inside hook files: adding then removing gives back the exact bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BlockSpec,
  findBlock,
  insertBlock,
  isShellScript,
  removeBlock,
} from '../../src/triggers/sections.js';

const spec = (hook = 'post-commit'): BlockSpec => ({ hook, runner: "'/r/runner.sh'", warnIfMissing: true });

function roundTrip(existing: string, hook = 'post-commit'): string | undefined {
  const added = insertBlock(existing, spec(hook));
  const removed = removeBlock(added.content);
  if (removed.action === 'restore') return removed.content;
  if (removed.action === 'delete') return undefined;
  return added.action === 'wrap' && removed.action === 'unwrap' ? existing : '<<unexpected>>';
}

describe('hook file blocks', () => {
  it('restores any shell hook byte for byte', () => {
    const shebangs = fc.constantFrom(
      '',
      '#!/bin/sh\n',
      '#!/usr/bin/env bash\n',
      '#!/bin/sh',
      '#!/bin/zsh -e\r\n',
    );
    fc.assert(
      fc.property(
        shebangs,
        fc.string(),
        fc.constantFrom('pre-commit', 'post-commit', 'post-rewrite'),
        (head, body, hook) => {
          const existing = head + body;
          expect(roundTrip(existing, hook)).toBe(existing);
        },
      ),
    );
  });

  it('puts the block after the shebang, so a user hook ending in `exit` cannot skip it', () => {
    const user = '#!/bin/sh\nnpm run lint\nexit 0\n';
    const r = insertBlock(user, spec());
    expect(r.action).toBe('chain');
    expect(r.content.startsWith('#!/bin/sh\n# >>> gastown [chained] >>>')).toBe(true);
    expect(r.content.endsWith('npm run lint\nexit 0\n')).toBe(true);
  });

  it('is idempotent: installing twice changes nothing', () => {
    const once = insertBlock('#!/bin/sh\necho hi\n', spec()).content;
    const twice = insertBlock(once, spec());
    expect(twice).toEqual({ action: 'unchanged', content: once });
  });

  it('refreshes an outdated block without touching the user part', () => {
    const old = insertBlock('#!/bin/sh\necho hi\n', { ...spec(), runner: "'/old/runner.sh'" }).content;
    const fresh = insertBlock(old, spec());
    expect(fresh.action).toBe('update');
    expect(fresh.content).toContain("'/r/runner.sh'");
    expect(removeBlock(fresh.content)).toEqual({ action: 'restore', content: '#!/bin/sh\necho hi\n' });
  });

  it('creates a file when there is none, and deletes only that one', () => {
    const r = insertBlock(undefined, spec());
    expect(r.action).toBe('create');
    expect(removeBlock(r.content)).toEqual({ action: 'delete' });
    // A user file that happens to equal our shebang line is restored, not deleted.
    const mine = insertBlock('#!/bin/sh\n', spec()).content;
    expect(removeBlock(mine)).toEqual({ action: 'restore', content: '#!/bin/sh\n' });
  });

  it('wraps hooks written in other languages instead of editing them', () => {
    expect(isShellScript('#!/usr/bin/env python3\nprint(1)\n')).toBe(false);
    expect(isShellScript('#!/usr/bin/env -S bash -e\n')).toBe(true);
    const r = insertBlock('#!/usr/bin/env node\nconsole.log(1)\n', spec());
    expect(r.action).toBe('wrap');
    expect(r.content).toContain('exec "$(dirname "$0")/post-commit.gastown-chained" "$@"');
    expect(removeBlock(r.content)).toEqual({ action: 'unwrap' });
  });

  it('finds no block in a file without one', () => {
    expect(findBlock('#!/bin/sh\necho >>> gastown\n')).toBeUndefined();
    expect(removeBlock('#!/bin/sh\n')).toEqual({ action: 'none' });
  });
});
