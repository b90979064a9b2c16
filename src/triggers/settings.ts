// What triggers need from `.beads/config.toml` ([engine]), read through the store's loader.
import { parseDuration } from '../formula/duration.js';
import { loadConfig } from '../store/config.js';
import type { GastownConfig } from '../store/types.js';
import type { EngineCommitSettings } from './commit.js';

export interface TriggerSettings extends EngineCommitSettings {
  hookTimeoutMs: number;
}

export const DEFAULT_HOOK_TIMEOUT_MS = 5000;

export function triggerSettings(config: GastownConfig): TriggerSettings {
  return {
    commit: config.engine.commit,
    identity: { name: config.engine.author_name, email: config.engine.author_email },
    hookTimeoutMs: parseDuration(config.engine.hook_timeout) ?? DEFAULT_HOOK_TIMEOUT_MS,
  };
}

export function loadTriggerSettings(root: string): TriggerSettings {
  return triggerSettings(loadConfig(root));
}
