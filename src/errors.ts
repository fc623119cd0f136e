/**
 * One error tree for Vigie. The runner, the CLI and the receivers branch on `code`, never on
 * message text; `cause` keeps the vendor error for the log.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'RULES_INVALID'
  | 'INPUT_INVALID'
  | 'STORE_CORRUPT'
  | 'STORE_FAILED'
  | 'SOURCE_FAILED'
  | 'SOURCE_UNAUTHORIZED'
  | 'SOURCE_LICENCE'
  | 'SOURCE_THROTTLED'
  | 'STREAM_LOCKED'
  | 'DELIVERY_FAILED'
  | 'INTERNAL';

export class VigieError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem in a user-supplied file, located as precisely as we can. */
export interface Problem {
  file: string;
  line?: number;
  column?: number;
  /** Dotted key path inside the file, e.g. `connectors[0].schedule`. */
  path?: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = [p.file, p.line, p.column].filter((x) => x !== undefined).join(':');
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Every problem found in the configuration or rules, reported together. */
export class ConfigError extends VigieError {
  readonly problems: Problem[];
  constructor(problems: Problem[], code: 'CONFIG_INVALID' | 'RULES_INVALID' = 'CONFIG_INVALID') {
    super(
      code,
      `${problems.length} problem${problems.length === 1 ? '' : 's'} found:\n` +
        problems.map((p) => `  ${formatProblem(p)}`).join('\n'),
    );
    this.problems = problems;
  }
}

export class StoreError extends VigieError {}
export class SourceError extends VigieError {}
export class DeliveryError extends VigieError {}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
