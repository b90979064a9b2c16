// `npm run bench -- mail`: `gastown mail inbox` on a repository of 10,000 messages over 100
// addresses (a third of them read), as ratios to `node -e 0` timed alternately with each command:
// warm (the listing cache under .beads/.cache/mail filled by an earlier run) and cold (deleted
// before every run); plus `mail check` warm and `mail thread` warm, which reads every folder.
// Self-contained: exports `default async function(flags)` like the other benches.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importBundled, pairedRow, timePaired } from './lib.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = process.env.GASTOWN_BENCH_CLI ?? join(ROOT, 'dist/gastown.cjs');
const ADDRESSES = 100;
const MESSAGES = 10_000;

const agent = (i) => `agent-${String(i).padStart(3, '0')}`;

export async function generate(dir) {
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, stdio: 'ignore' });
  execFileSync(process.execPath, [CLI, 'init', '--hooks', 'none'], { cwd: dir, stdio: 'ignore' });
  let config = '[engine]\ncommit = false\n\n[users.jgil]\nemails = ["jgil@example.com"]\n';
  for (let i = 0; i < ADDRESSES; i++)
    config += `\n[agents.${agent(i)}]\nemails = ["${agent(i)}@agents.example.com"]\n`;
  writeFileSync(join(dir, '.beads/config.toml'), config);
  // The message format and ids from the source, bundled as the CLI bundles them.
  const out = mkdtempSync(join(tmpdir(), 'gastown-bench-mail-mod-'));
  const { renderMessage } = await importBundled(join(ROOT, 'src/mail/message.ts'), out, 'message');
  const { ulid } = await importBundled(join(ROOT, 'src/store/ids.ts'), out, 'ids');
  rmSync(out, { recursive: true, force: true });
  for (let i = 0; i < ADDRESSES; i++) {
    mkdirSync(join(dir, '.beads/mail', agent(i), '.state', agent(i)), { recursive: true });
  }
  for (let n = 0; n < MESSAGES; n++) {
    const to = agent(n % ADDRESSES);
    const id = ulid();
    const from = n % 3 === 0 ? '@jgil' : agent((n * 7) % ADDRESSES);
    const text = renderMessage(
      {
        from,
        to: [to],
        subject: `Message ${n}: the analysis of day ${n % 30} is ready for review`,
        type: 'message',
        ...(n % 5 === 0 ? { thread: id, priority: 'high' } : {}),
      },
      `Body of message ${n}.\n\n${'Some markdown text about the work. '.repeat(6)}\n`,
    );
    writeFileSync(join(dir, '.beads/mail', to, `${id}.md`), text);
    if (n % 3 === 1) writeFileSync(join(dir, '.beads/mail', to, '.state', to, `${id}.read`), '');
  }
}

export default async function main(flags = []) {
  const runs = flags.includes('--quick') ? 5 : 15;
  const dir = mkdtempSync(join(tmpdir(), 'gastown-bench-mail-'));
  try {
    await generate(dir);
    const who = agent(42);
    const inbox = [CLI, 'mail', 'inbox', '--for', who];
    const cache = join(dir, '.beads/.cache/mail');
    // Fill the cache, as any earlier run would have.
    execFileSync(process.execPath, inbox, { cwd: dir, stdio: 'ignore' });
    const opts = { cwd: dir, runs };
    pairedRow(
      `mail inbox (${MESSAGES} messages / ${ADDRESSES} addresses) warm`,
      timePaired(process.execPath, inbox, opts),
      '<= 2x',
    );
    pairedRow(
      'mail inbox cold (listing cache deleted)',
      timePaired(process.execPath, inbox, {
        ...opts,
        setup: () => rmSync(cache, { recursive: true, force: true }),
      }),
    );
    execFileSync(process.execPath, inbox, { cwd: dir, stdio: 'ignore' });
    pairedRow('mail inbox --json warm', timePaired(process.execPath, [...inbox, '--json'], opts), '<= 2x');
    pairedRow(
      'mail check warm',
      timePaired(process.execPath, [CLI, 'mail', 'check', '--for', who], opts),
      '<= 2x',
    );
    const first = JSON.parse(execFileSync(process.execPath, [...inbox, '--json'], { cwd: dir }).toString())[0]
      .id;
    execFileSync(process.execPath, [CLI, 'mail', 'thread', first], { cwd: dir, stdio: 'ignore' });
    pairedRow(
      `mail thread (scans all ${MESSAGES} messages) warm`,
      timePaired(process.execPath, [CLI, 'mail', 'thread', first], opts),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
