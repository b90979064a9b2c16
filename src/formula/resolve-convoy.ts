// A convoy's parts: legs, the synthesis that waits for them, inputs and presets, checked
// against each other; for a convoy formula the legs and synthesis also become its steps.
import { pathSegmentProblem } from '../store/ids.js';
import type { InputDef, Leg, Preset } from './model.js';
import type { ResolveContext } from './resolve-context.js';
import { mergeById } from './resolve-steps.js';
import type { At, Composed, WorkStep } from './resolve-types.js';
import type { RawFormula } from './schema.js';

export function convoyParts(r: ResolveContext, raw: RawFormula, c: Composed, at: At): void {
  const legIds = new Set(c.legs.map((l) => l.id));
  addLegs(r, raw, c, at, legIds);
  if (raw.synthesis) addSynthesis(r, raw.synthesis, c, at, legIds);
  addInputs(r, raw, c, at);
  addPresets(r, raw, c, at, legIds);
  if (c.type === 'convoy') convoySteps(r, raw, c, at);
}

/** The file's own legs, merged over inherited ones; their ids are added to `legIds`. */
function addLegs(r: ResolveContext, raw: RawFormula, c: Composed, at: At, legIds: Set<string>): void {
  (raw.legs ?? []).forEach((l, i) => {
    const path = `legs[${i}]`;
    const problem = l.id === undefined ? undefined : pathSegmentProblem(l.id);
    if (l.id === undefined || problem) {
      r.error(
        'formula.leg-id',
        at(`${path}.id`),
        l.id === undefined ? 'id is required' : `leg id "${l.id}" cannot be stored: ${problem}`,
      );
      return;
    }
    if ((raw.legs ?? []).slice(0, i).some((x) => x.id === l.id)) {
      r.error('formula.duplicate-id', at(`${path}.id`), `duplicate leg id "${l.id}"`);
      return;
    }
    const leg: Leg = {
      id: l.id,
      title: l.title ?? l.id,
      description: l.description ?? '',
      extra: extraOf(l, ['id', 'title', 'description', 'focus']),
    };
    if (l.focus !== undefined) leg.focus = l.focus;
    c.legs = mergeById(c.legs, [leg]);
    legIds.add(l.id);
  });
}

function addSynthesis(
  r: ResolveContext,
  s: NonNullable<RawFormula['synthesis']>,
  c: Composed,
  at: At,
  legIds: ReadonlySet<string>,
): void {
  const id = s.id ?? 'synthesis';
  const problem = pathSegmentProblem(id);
  if (problem)
    r.error('formula.step-id', at('synthesis.id'), `synthesis id "${id}" cannot be stored: ${problem}`);
  if (legIds.has(id)) r.error('formula.duplicate-id', at('synthesis'), `a leg is already called "${id}"`);
  (s.depends_on ?? []).forEach((d, i) => {
    if (!legIds.has(d))
      r.error(
        'formula.unknown-leg',
        at(`synthesis.depends_on[${i}]`),
        `synthesis depends on unknown leg "${d}"`,
      );
  });
  c.synthesis = {
    id,
    title: s.title ?? 'Synthesis',
    description: s.description ?? '',
    depends_on: s.depends_on ?? [...legIds],
    extra: extraOf(s, ['id', 'title', 'description', 'depends_on']),
  };
}

/** The file's inputs, merged over inherited ones; every `required_unless` must name an input. */
function addInputs(r: ResolveContext, raw: RawFormula, c: Composed, at: At): void {
  for (const [name, inp] of Object.entries(raw.inputs ?? {})) {
    const def: InputDef = {
      name,
      required: inp.required === true,
      required_unless: inp.required_unless ?? [],
    };
    if (inp.description !== undefined) def.description = inp.description;
    if (inp.type !== undefined) def.type = inp.type;
    if (inp.default !== undefined) def.default = inp.default;
    c.inputs[name] = def;
  }
  for (const [name, inp] of Object.entries(c.inputs)) {
    inp.required_unless.forEach((ref, i) => {
      if (!(ref in c.inputs))
        r.error(
          'formula.unknown-input',
          at(`inputs.${name}.required_unless[${i}]`),
          `required_unless names unknown input "${ref}"`,
        );
    });
  }
}

function addPresets(
  r: ResolveContext,
  raw: RawFormula,
  c: Composed,
  at: At,
  legIds: ReadonlySet<string>,
): void {
  for (const [name, p] of Object.entries(raw.presets ?? {})) {
    const legs = p.legs ?? [];
    if (p.legs === undefined)
      r.error('formula.preset', at(`presets.${name}`), `preset "${name}" lists no legs`);
    legs.forEach((l, i) => {
      if (!legIds.has(l))
        r.error(
          'formula.unknown-leg',
          at(`presets.${name}.legs[${i}]`),
          `preset "${name}" selects unknown leg "${l}"`,
        );
    });
    const preset: Preset = { name, legs };
    if (p.description !== undefined) preset.description = p.description;
    c.presets[name] = preset;
  }
}

/** A convoy runs its legs in parallel, then the synthesis after the legs it depends on. */
function convoySteps(r: ResolveContext, raw: RawFormula, c: Composed, at: At): void {
  if (c.legs.length === 0)
    r.error('formula.convoy', at('legs'), 'a convoy needs at least one [[legs]] entry');
  for (const leg of c.legs) {
    const step: WorkStep = {
      id: leg.id,
      title: leg.title,
      description: leg.description,
      needs: [],
      labels: [],
      parallel: true,
      convoy_role: 'leg',
      extra: leg.focus === undefined ? {} : { focus: leg.focus },
      origin: at(`legs[${(raw.legs ?? []).findIndex((l) => l.id === leg.id)}]`),
      needPaths: new Map(),
      refs: [],
    };
    c.steps = mergeById(c.steps, [step]);
  }
  if (c.synthesis) {
    const syn = c.synthesis;
    const step: WorkStep = {
      id: syn.id,
      title: syn.title,
      description: syn.description,
      needs: [...syn.depends_on],
      labels: [],
      convoy_role: 'synthesis',
      extra: {},
      origin: at('synthesis'),
      needPaths: new Map(syn.depends_on.map((d, i) => [d, at(`synthesis.depends_on[${i}]`)])),
      refs: [],
    };
    c.steps = mergeById(c.steps, [step]);
  }
}

function extraOf(obj: Record<string, unknown>, known: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!known.includes(k)) out[k] = v;
  return out;
}
