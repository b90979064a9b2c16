import type { CliContext } from '../context.js';

export async function demo(ctx: CliContext, _opts: { keep?: boolean; json?: boolean }): Promise<number> {
  ctx.io.out('gastown demo: placeholder until the engine lands.');
  return 0;
}
