// zod schemas for every state file kind: the reference definition of each file's shape (and
// the source for JSON Schema via z.toJSONSchema). The hot paths (status, advance) use the
// equivalent light checks in check.ts, because loading zod costs about half a `node -e 0`;
// test/store/schema.test.ts keeps both in agreement.
import { z } from 'zod';

const moleculeId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/)
  .max(128);
const stepId = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/)
  .max(128)
  .refine((s) => !s.includes('..'), 'must not contain ".."');
const kind = z.string().regex(/^[a-z][a-z-]*$/);
const insidePath = z
  .string()
  .refine(
    (p) => !p.startsWith('/') && !p.split('/').includes('..'),
    'must be a path inside the molecule folder',
  );

export const MoleculeMetaSchema = z.looseObject({
  id: moleculeId,
  formula: z.string(),
  formula_hash: z.string(),
  formula_version: z.union([z.string(), z.number()]).optional(),
  vars: z.record(z.string(), z.string()).optional(),
  inputs: z.record(z.string(), z.unknown()).optional(),
  convoy: z.string().optional(),
  after: moleculeId.optional(),
  assignee: z.string().optional(),
  owner: z.string().optional(),
  preset: z.string().optional(),
  legs: z.array(z.string()).optional(),
});

/** `events/<step>.<attempt>.<kind>.toml`; other keys are kept (gate planners add their own). */
export const StepEventSchema = z.looseObject({
  step: stepId,
  attempt: z.number().int().min(1),
  kind,
  assignee: z.string().optional(),
  by: z.string().optional(),
  reason: z.string().optional(),
  commit: z.string().optional(),
  output: insidePath.optional(),
  cause: z.string().optional(),
});

/** `events/molecule.<kind>.toml`. */
export const MoleculeEventSchema = z.looseObject({ kind });

export const DigestSchema = z.object({
  id: moleculeId,
  state: z.literal('completed'),
  steps: z.array(
    z.object({
      id: stepId,
      attempt: z.number().int().min(1),
      state: z.enum(['done', 'skipped']),
      assignee: z.string().optional(),
      by: z.string().optional(),
    }),
  ),
});

export const ConfigSchema = z.looseObject({
  engine: z
    .looseObject({
      commit: z.boolean().optional(),
      author_name: z.string().min(1).optional(),
      author_email: z.string().min(1).optional(),
      hook_timeout: z
        .string()
        .regex(/^\d+(ms|s|m|h|d)$/)
        .optional(),
    })
    .optional(),
  users: z
    .record(z.string(), z.object({ name: z.string().optional(), emails: z.array(z.string()).optional() }))
    .optional(),
  agents: z.record(z.string(), z.object({ emails: z.array(z.string()).optional() })).optional(),
  teams: z.record(z.string(), z.array(z.string())).optional(),
});

export const LockSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  started: z.string(),
});
