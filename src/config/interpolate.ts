const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

export type Interpolated = { ok: true; value: string } | { ok: false; errors: string[] };

/**
 * Expands `${NAME}` and `${NAME:-default}` (default when unset or empty, as in the shell); `$${` is a
 * literal `${`. Error messages name the variable, never its value, since variables often carry secrets.
 */
export function interpolate(text: string, env: Record<string, string | undefined>): Interpolated {
  let out = '';
  const errors: string[] = [];
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      out += '${';
      i = dollar + 3;
      continue;
    }
    if (!text.startsWith('${', dollar)) {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) {
      errors.push('"${" is not closed by "}" (write $${ for a literal ${)');
      break;
    }
    const inner = text.slice(dollar + 2, close);
    const m = REFERENCE.exec(inner);
    if (!m) {
      errors.push(`"\${${inner}}" is not a variable reference (write \${NAME} or \${NAME:-default})`);
    } else {
      const name = m[1] as string;
      const value = env[name];
      if (m[2] !== undefined) out += value === undefined || value === '' ? m[2] : value;
      else if (value === undefined) errors.push(`environment variable ${name} is not set (give a default with \${${name}:-value})`);
      else out += value;
    }
    i = close + 1;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: out };
}

/**
 * What an unquoted `${VAR}` becomes: the same type as if the value had been written in the file,
 * so that `port: ${IMAP_PORT}` is a number. Quoting keeps a string.
 */
export function retypePlain(value: string): string | number | boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^[-+]?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/.test(value)) return Number(value);
  return value;
}
