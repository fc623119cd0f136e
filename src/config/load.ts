import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Problem } from '../errors.js';
import {
  configSchema,
  connectorCommonShape,
  receiverCommonShape,
  type ConnectorConfig,
  type ReceiverConfig,
  type VigieConfig,
} from './schema.js';
import { readYaml, type KeyPath, type Position, type YamlSource } from './yaml-source.js';

export type {
  ConnectorConfig,
  DeliveryConfig,
  OrganisationConfig,
  ReceiverConfig,
  RouteConfig,
  RouteMatch,
  RulesConfig,
  ServerConfig,
  SilenceConfig,
  StateConfig,
  VigieConfig,
} from './schema.js';

export interface ComponentType {
  /** zod object schema of the type-specific keys (without name/type/common keys); the loader makes it strict and merges the common keys */
  schema: z.ZodObject<any>;
  /** keys of this type that are secrets: each may also be given as `<key>_file` (a path whose content, trailing newline trimmed, is the secret). Both set = error. File missing/unreadable = error naming the file. A dotted key (`smtp.password`) names a key inside a nested mapping. */
  secrets?: string[];
}

export interface LoadOptions {
  /** For `${VAR}` interpolation; default process.env. */
  env?: Record<string, string | undefined>;
  connectorTypes: Record<string, ComponentType>;
  receiverTypes: Record<string, ComponentType>;
  /** Injectable for tests; default fs.readFileSync utf8. */
  readFile?: (p: string) => string;
}

/** A config larger than this is a mistake or an attack, never a real configuration. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads and validates a config file; throws one ConfigError listing every problem found. */
export function loadConfig(file: string, opts: LoadOptions): VigieConfig {
  const abs = path.resolve(file);
  if (!opts.readFile) {
    // Checked before reading so that a huge file is never pulled into memory.
    let size: number;
    try {
      size = fs.statSync(abs).size;
    } catch (err) {
      throw new ConfigError([{ file, message: `cannot read the configuration file (${errorCode(err)})` }]);
    }
    if (size > MAX_CONFIG_BYTES) throw new ConfigError([{ file, message: tooBig() }]);
  }
  let text: string;
  try {
    text = (opts.readFile ?? readUtf8)(abs);
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot read the configuration file (${errorCode(err)})` }]);
  }
  return parseConfig(text, file, opts);
}

/** Same as loadConfig, from text already read; `file` names it in problems and anchors relative paths. */
export function parseConfig(text: string, file: string, opts: LoadOptions): VigieConfig {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) throw new ConfigError([{ file, message: tooBig() }]);
  const abs = path.resolve(file);
  const baseDir = path.dirname(abs);
  const { source, problems: yamlProblems } = readYaml(text, file, opts.env ?? process.env);
  if (!source) throw new ConfigError(yamlProblems);

  const check = new Checker(file, source, baseDir, opts.readFile ?? readUtf8);
  check.problems.push(...yamlProblems);

  const root = source.data ?? {};
  if (!isRecord(root)) {
    check.at(source.valueAt([]), [], 'the configuration must be a mapping of sections (organisation, connectors, ...)');
    throw check.error();
  }
  // An empty section (`connectors:` with nothing under it) means "the default", not "null".
  const input = Object.fromEntries(Object.entries(root).filter(([, v]) => v !== null));

  const sections = configSchema({ baseDir, cwd: process.cwd() }).safeParse(input);
  if (!sections.success) check.issues(sections.error.issues, [], input);

  const connectors = entries(input.connectors).map((raw, i) =>
    check.entry('connector', ['connectors', i], raw, opts.connectorTypes, connectorCommonShape),
  );
  const receivers = entries(input.receivers).map((raw, i) =>
    check.entry('receiver', ['receivers', i], raw, opts.receiverTypes, receiverCommonShape),
  );
  check.uniqueNames('connector', 'connectors', input.connectors);
  check.uniqueNames('receiver', 'receivers', input.receivers);
  check.routeReceivers(input.routes, input.receivers);

  if (check.problems.length > 0 || !sections.success) throw check.error();
  return {
    file: abs,
    baseDir,
    ...(check.warnings.length > 0 && { warnings: check.warnings }),
    ...sections.data,
    connectors: connectors as ConnectorConfig[],
    receivers: receivers as ReceiverConfig[],
  };
}

/** The config used when there is no file (e.g. `vigie replay` without -c): print every alert on the console. */
export function defaultConfig(overrides: Partial<VigieConfig> = {}): VigieConfig {
  const cwd = process.cwd();
  const sections = configSchema({ baseDir: cwd, cwd }).parse({
    organisation: { name: 'Vigie' },
    state: { path: ':memory:' },
    routes: [{ receivers: ['console'] }],
  });
  const consoleReceiver = z.object(receiverCommonShape).parse({ name: 'console', type: 'console' });
  return { file: undefined, baseDir: cwd, ...sections, connectors: [], receivers: [consoleReceiver], ...overrides };
}

type CommonShape = typeof connectorCommonShape | typeof receiverCommonShape;

/** Accumulates problems with their positions, so that one run reports everything. */
class Checker {
  readonly problems: Problem[] = [];
  readonly warnings: string[] = [];
  /** Secret values seen, so that no problem message can leak one. */
  private readonly secrets = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly source: YamlSource,
    private readonly baseDir: string,
    private readonly readFile: (p: string) => string,
  ) {}

  at(pos: Position | undefined, path: KeyPath, message: string): void {
    this.problems.push({
      file: this.file,
      ...(pos && { line: pos.line, column: pos.column }),
      ...(path.length > 0 && { path: formatPath(path) }),
      message,
    });
  }

  /** `input` is the object that was validated, whose document path is `prefix`. */
  issues(issues: z.ZodError['issues'], prefix: KeyPath, input: unknown, secretKeys: string[] = []): void {
    for (const issue of issues) {
      const p = [...prefix, ...(issue.path as (string | number)[])];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.at(this.source.keyAt([...p, key]), [...p, key], `unknown key "${key}"`);
      } else if (issue.code === 'invalid_type' && !hasPath(input, issue.path as KeyPath)) {
        const key = String(p.at(-1));
        const hint = secretKeys.some((k) => k === key || k.endsWith(`.${key}`)) ? ` (or "${key}_file")` : '';
        this.at(this.source.parentAt(p), p, `missing required key "${key}"${hint}`);
      } else if (!this.source.isBroken(p)) {
        this.at(this.source.valueAt(p), p, issue.message.replace(/^Invalid (?:input|option): /, ''));
      }
    }
  }

  entry(
    kind: 'connector' | 'receiver',
    prefix: KeyPath,
    raw: unknown,
    types: Record<string, ComponentType>,
    commonShape: CommonShape,
  ): Record<string, unknown> | undefined {
    if (!isRecord(raw)) {
      this.at(this.source.valueAt(prefix), prefix, `each ${kind} must be a mapping with at least "name" and "type"`);
      return undefined;
    }
    const known = Object.keys(types).sort().join(', ') || '(none)';
    const typeName = raw.type;
    const type = typeof typeName === 'string' && Object.hasOwn(types, typeName) ? types[typeName] : undefined;
    if (typeName === undefined || typeName === null) {
      this.at(this.source.parentAt([...prefix, 'type']), [...prefix, 'type'], `missing required key "type" (one of: ${known})`);
    } else if (!type) {
      const shown = typeof typeName === 'string' ? `"${typeName}"` : 'this';
      this.at(this.source.valueAt([...prefix, 'type']), [...prefix, 'type'], `unknown ${kind} type ${shown} (known: ${known})`);
    }
    const secretKeys = type?.secrets ?? [];
    const input = this.readSecretFiles(prefix, { ...raw }, secretKeys);

    // `type` was judged above. Without a known type the type-specific keys cannot be judged, but the
    // common ones still can.
    const { type: _type, ...shape } = commonShape;
    const common = (type ? z.object(shape) : z.looseObject(shape)).safeParse(input);
    if (!common.success) this.issues(common.error.issues, prefix, input, secretKeys);
    if (!type) return undefined;

    const commonKeys = new Set(Object.keys(commonShape));
    const rest = Object.fromEntries(Object.entries(input).filter(([k]) => !commonKeys.has(k)));
    const specific = type.schema.strict().safeParse(rest);
    if (!specific.success) this.issues(specific.error.issues, prefix, rest, secretKeys);
    for (const key of secretKeys) {
      const value = nestedValue(input, key);
      if (typeof value === 'string') this.secrets.add(value);
    }
    return common.success && specific.success ? { ...common.data, type: typeName, ...specific.data } : undefined;
  }

  /** Replaces each `<key>_file` by `<key>` holding the file's content. */
  private readSecretFiles(prefix: KeyPath, input: Record<string, unknown>, secretKeys: string[]): Record<string, unknown> {
    for (const dotted of secretKeys) {
      const parts = dotted.split('.');
      const key = parts.pop()!;
      // A nested secret lives in a copy of its mapping, so that the raw document is never changed.
      let holder: Record<string, unknown> | undefined = input;
      let parent: Record<string, unknown> = input;
      for (const part of parts) {
        const next: unknown = holder?.[part];
        if (!isRecord(next)) {
          holder = undefined;
          break;
        }
        holder = { ...next };
        parent[part] = holder;
        parent = holder;
      }
      if (!holder) continue;
      const fileKey = `${key}_file`;
      if (!Object.hasOwn(holder, fileKey)) continue;
      const where = [...prefix, ...parts, fileKey];
      const value = holder[fileKey];
      delete holder[fileKey];
      if (Object.hasOwn(holder, key)) {
        this.at(this.source.keyAt(where), where, `give either "${key}" or "${fileKey}", not both`);
        continue;
      }
      if (typeof value !== 'string' || value === '') {
        this.at(this.source.valueAt(where), where, 'must be the path of a file holding the secret');
        continue;
      }
      const abs = path.resolve(this.baseDir, value);
      let content: string;
      try {
        content = this.readFile(abs).replace(/[\r\n]+$/, '');
      } catch (err) {
        this.at(this.source.valueAt(where), where, `cannot read secret file ${abs} (${errorCode(err)})`);
        continue;
      }
      if (content === '') {
        this.at(this.source.valueAt(where), where, `secret file ${abs} is empty`);
        continue;
      }
      holder[key] = content;
      this.warnIfReadable(abs, where);
    }
    return input;
  }

  /** A secret file other users can read is a leak waiting to happen (P24): warn, do not refuse. */
  private warnIfReadable(abs: string, where: KeyPath): void {
    let mode: number;
    try {
      mode = fs.statSync(abs).mode;
    } catch {
      return; // read through an injected reader (tests), or gone since: nothing to say
    }
    if ((mode & 0o004) !== 0) {
      this.warnings.push(`${formatPath(where)}: secret file ${abs} is readable by every user (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`);
    }
  }

  uniqueNames(kind: string, section: string, list: unknown): void {
    const first = new Map<string, number>();
    entries(list).forEach((raw, i) => {
      if (!isRecord(raw) || typeof raw.name !== 'string') return;
      const seen = first.get(raw.name);
      if (seen === undefined) {
        first.set(raw.name, i);
        return;
      }
      const firstLine = this.source.valueAt([section, seen, 'name'])?.line;
      const where = [section, i, 'name'];
      this.at(
        this.source.valueAt(where),
        where,
        `duplicate ${kind} name "${raw.name}" (first declared${firstLine ? ` at line ${firstLine}` : ` as ${section}[${seen}]`})`,
      );
    });
  }

  /** A route naming a receiver that does not exist would silently drop alerts. */
  routeReceivers(routes: unknown, receivers: unknown): void {
    const declared = new Set(entries(receivers).flatMap((r) => (isRecord(r) && typeof r.name === 'string' ? [r.name] : [])));
    const known = [...declared].sort().join(', ') || 'none declared';
    entries(routes).forEach((route, i) => {
      if (!isRecord(route)) return;
      const names = route.receivers;
      const list: Array<[unknown, KeyPath]> = Array.isArray(names)
        ? names.map((n, j) => [n, ['routes', i, 'receivers', j]])
        : [[names, ['routes', i, 'receivers']]];
      for (const [name, where] of list) {
        if (typeof name === 'string' && !declared.has(name)) {
          this.at(this.source.valueAt(where), where, `unknown receiver "${name}" (receivers: ${known})`);
        }
      }
    });
  }

  error(): ConfigError {
    const redacted = this.problems.map((p) => ({ ...p, message: this.redact(p.message) }));
    redacted.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    return new ConfigError(redacted);
  }

  private redact(message: string): string {
    let out = message;
    // Very short values would redact ordinary words; a secret that short is a problem of its own.
    for (const s of this.secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
    return out;
  }
}

function formatPath(path: KeyPath): string {
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('');
}

function hasPath(input: unknown, path: KeyPath): boolean {
  let node = input;
  for (const seg of path) {
    if (Array.isArray(node) && typeof seg === 'number') {
      if (seg >= node.length) return false;
      node = node[seg];
    } else if (isRecord(node) && Object.hasOwn(node, seg)) {
      node = node[seg];
    } else {
      return false;
    }
  }
  return node !== undefined;
}

function nestedValue(input: Record<string, unknown>, dotted: string): unknown {
  let node: unknown = input;
  for (const part of dotted.split('.')) node = isRecord(node) && Object.hasOwn(node, part) ? node[part] : undefined;
  return node;
}

function entries(list: unknown): unknown[] {
  return Array.isArray(list) ? list : [];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readUtf8(p: string): string {
  return fs.readFileSync(p, 'utf8');
}

/** The errno code tells the user what is wrong without the full message repeating the path. */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

function tooBig(): string {
  return `the configuration file is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`;
}
