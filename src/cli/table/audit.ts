// History as evidence: verify (CI on pull requests), audit, report, evidence.
import type { Command } from 'commander';
import { type CliContext, lazy } from '../context.js';

export function registerAudit(program: Command, ctx: CliContext): void {
  const impl = () => import('../commands/audit.js');
  program
    .command('verify')
    .description(
      "check the history of .beads/ for CI: doctor's molecule audit, legal transitions, approvals by allowed approvers (signed when required), gate reports from the engine, nothing rewritten (exit 1 on any finding)",
    )
    .option(
      '--base <ref>',
      'check only the commits since the merge base with REF (a pull request: origin/main)',
    )
    .option('--json', 'print the findings as JSON')
    .action(lazy(ctx, async () => (await impl()).verifyCommand));
  program
    .command('audit <molecule-or-convoy>')
    .description(
      'one timeline of a molecule (or every molecule of a convoy) from its files and git history: transitions, checkpoint decisions, comments, gate reports, mail, escalations, each with commit, author, committer, date and signature',
    )
    .option('--json', 'print the timeline as JSON')
    .option('--markdown', 'print the timeline as a markdown table')
    .option('--csv', 'print the timeline as CSV')
    .option('--since <date>', 'only commits made since DATE (e.g. 2026-01-06)')
    .action(lazy(ctx, async () => (await impl()).auditCommand));
  program
    .command('report [molecule]')
    .description(
      'a status report for pull requests and CI summaries: progress, a mermaid graph of the steps, pending checkpoints, recent events (every molecule when none is named)',
    )
    .option('--markdown', 'print markdown (for $GITHUB_STEP_SUMMARY or a pull-request comment)')
    .option('--json', 'print the report as JSON')
    .option(
      '--base <ref>',
      'also list the steps the commits since the merge base with REF move (only those molecules when none is named)',
    )
    .action(lazy(ctx, async () => (await impl()).reportCommand));
  program
    .command('evidence <molecule>')
    .description(
      'write an evidence pack (markdown and JSON): per checkpoint who decided, when, on what content, in which commit, signed by which key; every gate report; a summary table',
    )
    .requiredOption(
      '--out <dir>',
      'folder to write <molecule>.evidence.md and .json into (created if missing)',
    )
    .option('--json', 'print what was written as JSON')
    .action(lazy(ctx, async () => (await impl()).evidenceCommand));
}
