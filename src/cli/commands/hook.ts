// `gastown hook <name> [args...]`: what the installed hook runner calls once its shell fast path
// decided Node is needed. Internal (hidden from help); see src/triggers/hook.ts.
import { type HookDeps, runHook } from '../../triggers/hook.js';
import { loadTriggerSettings } from '../../triggers/settings.js';
import { stagedValidators } from '../../triggers/validators.js';
import type { CliContext } from '../context.js';

export async function hook(ctx: CliContext, name: string, args: string[]): Promise<number> {
  const stdin = name === 'post-rewrite' ? await readStdin() : '';
  const deps: HookDeps = {
    advance: async (opts) => {
      const { advanceLocked } = await import('../../engine/index.js');
      return advanceLocked(opts);
    },
    settings: (root) => loadTriggerSettings(root),
    validators: (root) => stagedValidators(root, () => ctx.now()),
    now: () => ctx.now(),
    log: (line) => ctx.io.err(line),
  };
  return runHook(name, args, stdin, ctx.cwd, deps);
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
