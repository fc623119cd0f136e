/**
 * Attacker-controlled text (inbox rule names, subjects, display names, user agents, app names)
 * reaches terminals, logs and chat messages. Here it becomes one inert line: it cannot start a
 * new line, move the cursor, recolour or retitle a terminal, reorder what follows it (Trojan
 * Source) or hide characters from the reader.
 */

const DEFAULT_MAX_LEN = 1000;

// Whole escape sequences, not just the ESC byte, so that `\x1b[2J` leaves no `[2J` behind.
// OSC (ESC ] … BEL | ST) first: it carries payloads such as OSC-8 hyperlinks and window titles.
const ESCAPE_SEQUENCES = new RegExp(
  [
    '\\x1b\\][^\\x07\\x1b\\x9c]*(?:\\x07|\\x1b\\\\|\\x9c)?', // OSC, possibly unterminated
    '\\x9d[^\\x07\\x1b\\x9c]*(?:\\x07|\\x1b\\\\|\\x9c)?', // 8-bit OSC
    '(?:\\x1b\\[|\\x9b)[0-?]*[ -/]*[@-~]?', // CSI (7-bit and 8-bit)
    '\\x1b[PX^_][^\\x1b\\x9c]*(?:\\x1b\\\\|\\x9c)?', // DCS, SOS, PM, APC strings
    '\\x1b[ -/]*[0-~]?', // any other escape
  ].join('|'),
  'g',
);

// Line and paragraph breaks of every kind turn into a space so that words stay apart.
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;

// C0, DEL, C1; bidi embeddings/overrides/isolates and marks; zero-width and other invisible
// format characters (soft hyphen, word joiner, invisible operators, BOM, interlinear
// annotations); Unicode tag characters, which smuggle invisible ASCII.
const INVISIBLE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/g;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// Zalgo: more combining marks than any real script stacks on one letter spill over the lines
// around it in a terminal.
const MARK_RUN = /(\p{M}{4})\p{M}+/gu;

function toText(s: unknown): string {
  if (typeof s === 'string') return s;
  if (s === null || s === undefined) return '';
  if (typeof s === 'number' || typeof s === 'boolean' || typeof s === 'bigint') return String(s);
  try {
    return JSON.stringify(s) ?? '';
  } catch {
    return String(Object.prototype.toString.call(s));
  }
}

/**
 * Turns attacker-controlled text into ONE safe line of at most `maxLen` code points (an ellipsis
 * marks a cut). Never throws; `null`/`undefined` become the empty string.
 */
export function plainText(s: unknown, maxLen: number = DEFAULT_MAX_LEN): string {
  const limit = Math.max(1, Math.floor(maxLen));
  let text = toText(s);
  // Bound the work on huge inputs; stripping only shortens, so enough raw text is kept to fill
  // the line unless the input is mostly invisible characters.
  const rawCap = Math.max(limit * 8, 4096);
  let cut = false;
  if (text.length > rawCap) {
    text = text.slice(0, rawCap);
    cut = true;
  }
  text = text
    .replace(LONE_SURROGATE, '\ufffd')
    .replace(ESCAPE_SEQUENCES, '')
    .replace(BREAKS, ' ')
    .replace(INVISIBLE, '')
    .replace(MARK_RUN, '$1')
    .replace(/ {2,}/g, ' ')
    .trim();
  const points = Array.from(text);
  if (points.length > limit || (cut && points.length > 0)) {
    return points.slice(0, Math.min(points.length, limit - 1)).join('').trimEnd() + '…';
  }
  return text;
}
