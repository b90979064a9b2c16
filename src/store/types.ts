// The shapes of the files in a molecule folder (docs/state.md has the field reference).
import type { TomlTable } from './toml.js';

/** `molecule.toml`: written once when the molecule is created. */
export interface MoleculeMeta {
  id: string;
  formula: string;
  formula_hash: string;
  formula_version?: string | number;
  vars: Record<string, string>;
  /** The `--inputs` file's `[inputs]` table: the formula's inputs. */
  inputs: TomlTable;
  /** The rest of the `--inputs` file (not `[vars]`, not `[inputs]`): `[scope]`, `[team_coordination]`, … */
  context?: TomlTable;
  convoy?: string;
  /** The molecule waits for this molecule to be completed before any step becomes ready. */
  after?: string;
  /** Default assignee of steps that name none. */
  assignee?: string;
  preset?: string;
  legs?: string[];
}

/** One recorded fact, `events/<step>.<attempt>.<kind>.toml` or `events/molecule.<kind>.toml`. */
export interface EventFact {
  step?: string;
  attempt?: number;
  kind: string;
  /** Who the step is for (ready facts). */
  assignee?: string;
  /** Who recorded it (agent or person; started/done/failed/reopened). */
  by?: string;
  reason?: string;
  /** The commit whose trailer recorded it. */
  commit?: string;
  /** Output file, relative to the molecule folder. */
  output?: string;
  /** The step whose re-open or gate caused this fact. */
  cause?: string;
  /** Keys other engines (gates) add; kept verbatim. */
  extra: TomlTable;
}

export interface DigestStep {
  id: string;
  attempt: number;
  state: 'done' | 'skipped';
  assignee?: string;
  by?: string;
}

/** `digest.toml`: replaces `events/` of a completed molecule after `molecule squash`. */
export interface Digest {
  id: string;
  state: 'completed';
  steps: DigestStep[];
}

export interface EngineConfig {
  commit: boolean;
  author_name: string;
  author_email: string;
  hook_timeout: string;
}

export interface GastownConfig {
  engine: EngineConfig;
  users: Record<string, { name?: string; emails: string[] }>;
  agents: Record<string, { emails: string[] }>;
  teams: Record<string, string[]>;
  /** Sections and keys this version does not know, kept for other parts of gastown. */
  extra: TomlTable;
  /** Content hash of the file (empty when there is none); part of cache keys. */
  hash: string;
}

/** `.beads/.cache/lock` (JSON). */
export interface LockInfo {
  pid: number;
  host: string;
  started: string;
  /**
   * The holder's start time in clock ticks since boot (/proc/<pid>/stat field 22), where /proc
   * exists: with the pid it names one process, so a pid reused by another process is told apart.
   */
  proc_start?: string;
}
