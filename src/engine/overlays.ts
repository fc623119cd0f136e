import { z } from 'zod';
import { CATEGORIES, SEVERITIES } from '../alerts/alert.js';
import type { Problem } from '../errors.js';
import { LIST_NAME } from './lists.js';
import { RULE_STATUSES } from './rule-schema.js';
import { problemAt, readYaml, zodProblems, type YamlSource } from './yaml-source.js';

/**
 * A user's tuning file (config `rules.overlays`): rules/ is never edited, these files say what
 * differs. Later files win over earlier ones.
 */
const selectorSchema = z.preprocess(
  (x) => (typeof x === 'string' ? { id: x } : x),
  z
    .strictObject({
      id: z.string().min(1).optional(),
      tag: z.string().min(1).optional(),
      category: z.enum(CATEGORIES).optional(),
      status: z.enum(RULE_STATUSES).optional(),
      note: z.string().optional(),
    })
    .refine((s) => [s.id, s.tag, s.category, s.status].filter((x) => x !== undefined).length === 1, {
      error: 'give exactly one of id, tag, category or status',
    }),
);
export type Selector = z.infer<typeof selectorSchema>;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** `2025-11-01` means from the start of that day (UTC); a full ISO time is taken as is. */
export function fromMs(text: string): number | undefined {
  const end = untilMs(text);
  if (end === undefined) return undefined;
  return DATE_ONLY.test(text) ? end - 86_400_000 : end;
}

/** `2025-11-30` means until the end of that day (UTC); a full ISO time is taken as is. */
export function untilMs(text: string): number | undefined {
  if (DATE_ONLY.test(text)) {
    const ms = Date.parse(`${text}T00:00:00Z`);
    return Number.isNaN(ms) ? undefined : ms + 86_400_000;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const exceptionSchema = z
  .strictObject({
    rule: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    tag: z.string().min(1).optional(),
    category: z.enum(CATEGORIES).optional(),
    /** Event conditions, same language as a rule's `when`. */
    when: z.record(z.string(), z.unknown()),
    /** Checked when the overlay is applied, so a bad date does not hide the entry's other problems. */
    until: z.string().optional(),
    /** Start of the window (a date means the start of that day, UTC); events before it are not excepted. */
    from: z.string().optional(),
    note: z.string().optional(),
  })
  .refine((x) => x.rule !== undefined || x.tag !== undefined || x.category !== undefined, {
    error: 'say which rules the exception is for: rule, tag or category',
  });
export type ExceptionSpec = z.infer<typeof exceptionSchema>;

const overrideSchema = z.strictObject({
  severity: z.enum(SEVERITIES).optional(),
  /** Merged key by key over the rule's params. */
  params: z.record(z.string(), z.unknown()).optional(),
  note: z.string().optional(),
});
export type OverrideSpec = z.infer<typeof overrideSchema>;

const listsEntrySchema = z.array(z.union([z.string(), z.number()]));

/** Entries keep their index in the file so that later problems can point at them. */
export interface Indexed<T> {
  index: number;
  value: T;
}

export interface OverlaySpec {
  enable: Indexed<Selector>[];
  disable: Indexed<Selector>[];
  overrides: Record<string, OverrideSpec>;
  lists: Record<string, string[]>;
  exceptions: Indexed<ExceptionSpec>[];
}

export interface Overlay {
  file: string;
  source: YamlSource;
  spec: OverlaySpec;
}

const SECTIONS = ['enable', 'disable', 'overrides', 'lists', 'exceptions'] as const;

function isMapping(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Reads one overlay. Each entry is validated on its own, so one bad entry does not hide the
 * problems of the others (unknown rule ids are checked later, on the valid entries).
 */
export function readOverlay(file: string): { overlay?: Overlay; problems: Problem[] } {
  const { source, problems } = readYaml(file);
  if (!source) return { problems };
  const data = source.data ?? {}; // an empty file is a valid overlay that changes nothing
  const spec: OverlaySpec = { enable: [], disable: [], overrides: {}, lists: {}, exceptions: [] };
  if (!isMapping(data)) return { problems: [problemAt(source, [], 'an overlay is a mapping with enable, disable, overrides, lists and exceptions')] };
  for (const key of Object.keys(data)) {
    if (!(SECTIONS as readonly string[]).includes(key)) problems.push(problemAt(source, [key], `unknown key "${key}" (known: ${SECTIONS.join(', ')})`, true));
  }
  const each = <T>(key: (typeof SECTIONS)[number], schema: z.ZodType<T>, keep: (name: string | number, value: T) => void) => {
    const section = data[key];
    if (section === undefined || section === null) return;
    const isList = key !== 'overrides' && key !== 'lists';
    if (isList ? !Array.isArray(section) : !isMapping(section)) {
      problems.push(problemAt(source, [key], isList ? 'must be a list' : 'must be a mapping'));
      return;
    }
    const entries: [string | number, unknown][] = Array.isArray(section) ? section.map((v, i) => [i, v]) : Object.entries(section);
    for (const [name, value] of entries) {
      const r = schema.safeParse(value, { reportInput: true });
      if (r.success) keep(name, r.data);
      else problems.push(...zodProblems(source, r.error, [key, name]));
    }
  };
  each('disable', selectorSchema, (i, value) => spec.disable.push({ index: i as number, value }));
  each('enable', selectorSchema, (i, value) => spec.enable.push({ index: i as number, value }));
  each('overrides', overrideSchema, (id, value) => {
    spec.overrides[id as string] = value;
  });
  each('lists', listsEntrySchema, (name, value) => {
    if (!LIST_NAME.test(String(name))) problems.push(problemAt(source, ['lists', name], 'list names are lower-case letters, digits and -', true));
    else spec.lists[name as string] = value.map(String);
  });
  each('exceptions', exceptionSchema, (i, value) => spec.exceptions.push({ index: i as number, value }));
  return { overlay: { file, source, spec }, problems };
}
