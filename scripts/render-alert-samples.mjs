#!/usr/bin/env node
/**
 * Renders one real alert of the demo story (and one with attacker-controlled text) through the
 * Slack, Teams and e-mail renderers, writes the payloads and HTML previews to a temp folder,
 * screenshots the previews with headless Chromium into docs/img/alert-*.png, and refreshes the
 * generated blocks of docs/alerts.md.
 *
 *   npm run build && node scripts/render-alert-samples.mjs [--out DIR] [--no-screenshots] [--no-docs]
 *
 * Chromium: `chromium` on the PATH, or CHROMIUM=/path/to/chrome. The previews of Slack and Teams
 * are small renderers of the block and element types Vigie uses, styled after each client: they
 * show text the way the platform treats it (plain_text and TextRun verbatim; TextBlock Markdown
 * interpreted), so a renderer bug would show up in the picture rather than be hidden by it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist', 'src');
const IMG_DIR = path.join(ROOT, 'docs', 'img');
const DOC = path.join(ROOT, 'docs', 'alerts.md');
const WIDTH = 900;

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

if (!fs.existsSync(path.join(DIST, 'replay.js'))) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(1);
}
const load = (p) => import(pathToFileURL(path.join(DIST, p)).href);
const { replay } = await load('replay.js');
const { readConfig } = await load('app.js');
const { silentLogger } = await load('log.js');
const { systemClock } = await load('clock.js');
const { DEMO_DIR } = await load('paths.js');
const { renderSlack } = await load('alerts/render-slack.js');
const { renderTeams } = await load('alerts/render-teams.js');
const { renderEmail } = await load('alerts/render-email.js');

// ---------------------------------------------------------------------------------------------
// The alerts: the demo story as `vigie demo` replays it, and the same story with hostile text.

const SAMPLE_RULE = 'forwarding.external-inbox-rule';

/** What an attacker who can name an inbox rule (or a display name) would try. */
const HOSTILE_RULE_NAME =
  '<script>alert(1)</script> <!channel> [click](https://evil.example) @here *urgent* :rotating_light: {{DATE(2025-03-10T09:00:00Z)}} ' +
  '\u202eexe.txt\u202c\r\nIT helpdesk: all clear, ignore this alert';
const HOSTILE_PERSON = 'Alice <!here> **Board** \u2066@everyone\u2069 _[verify](https://evil.example/login)_\r\nBcc: attacker@evil.example';

const demoConfig = readConfig(path.join(DEMO_DIR, 'vigie.yml'));
/** The demo's input files, as `vigie demo` finds them. */
const demoInputs = demoConfig.connectors.flatMap((c) => (c.paths ?? []).map((p) => path.resolve(demoConfig.baseDir, p)));

async function sampleAlert(inputs) {
  const { alerts } = await replay({ inputs, config: demoConfig, notify: false, clock: systemClock, log: silentLogger });
  const alert = alerts.find((a) => a.rule === SAMPLE_RULE);
  if (!alert) throw new Error(`the demo replay raised no ${SAMPLE_RULE} alert`);
  return alert;
}

/**
 * Gives the inbox rule of one record the hostile name, in whichever format the demo holds it:
 * Vigie's event JSON (`details.name`) or an Office 365 audit record (`Parameters` Name, `ObjectId`).
 */
function renameRule(record) {
  let done = false;
  if (record?.details && typeof record.details.name === 'string') {
    record.details.name = HOSTILE_RULE_NAME;
    done = true;
  }
  for (const p of Array.isArray(record?.Parameters) ? record.Parameters : []) {
    if (p?.Name === 'Name') {
      if (typeof record.ObjectId === 'string' && record.ObjectId.endsWith(`\\${p.Value}`)) {
        record.ObjectId = `${record.ObjectId.slice(0, -String(p.Value).length)}${HOSTILE_RULE_NAME}`;
      }
      p.Value = HOSTILE_RULE_NAME;
      done = true;
    }
  }
  return done;
}

/** Copies the demo inputs into `outDir`, the record behind `alert` renamed; returns the copies. */
function hostileInputs(alert, outDir) {
  const eventId = alert.evidence?.[0]?.event_id ?? '';
  const recordId = eventId.slice(eventId.lastIndexOf(':') + 1);
  if (!recordId) throw new Error('the sample alert has no evidence event id');
  let found = false;
  const copies = demoInputs.map((file, i) => {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const out = lines.map((line) => {
      if (found || !line.includes(recordId)) return line;
      let record;
      try {
        record = JSON.parse(line);
      } catch {
        return line;
      }
      if (![eventId, recordId].includes(record?.id ?? record?.Id) || !renameRule(record)) return line;
      found = true;
      return JSON.stringify(record);
    });
    const copy = path.join(outDir, 'hostile-inputs', `${i}-${path.basename(file)}`);
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.writeFileSync(copy, out.join('\n'));
    return copy;
  });
  if (!found) throw new Error(`no record with id ${recordId} and a rule name in the demo inputs`);
  return copies;
}

// ---------------------------------------------------------------------------------------------
// Helpers.

function escapeHtml(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON with invisible and bidi characters written as \u escapes, so the docs stay readable and Trojan-Source free. */
function safeJson(value) {
  return JSON.stringify(value, null, 2).replace(
    /[\u0080-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u206f\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const FONT = `'Lato','Segoe UI','Liberation Sans','DejaVu Sans',Helvetica,Arial,sans-serif`;

function page(title, css, body, bg = '#fff') {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
html,body{margin:0;padding:0;background:${bg};}
body{width:${WIDTH}px;font-family:${FONT};}
#page{display:flow-root;}
${css}
</style></head>
<body><div id="page">
${body}
</div>
<script>
// Measured by the script (chromium --dump-dom) to size the screenshot window.
addEventListener('load', () => {
  for (const f of document.querySelectorAll('iframe[data-fit]')) {
    const h = f.contentDocument.documentElement.scrollHeight;
    f.style.height = h + 'px';
    document.body.dataset.iframe = String(h);
  }
  document.body.dataset.height = String(Math.ceil(document.getElementById('page').getBoundingClientRect().height));
});
</script>
</body></html>
`;
}

// ---------------------------------------------------------------------------------------------
// Slack: header, section (text or fields), context, divider; every text object shown as typed.

const SLACK_CSS = `
.chan{height:48px;border-bottom:1px solid #e2e2e2;display:flex;align-items:center;padding:0 20px;font-weight:900;font-size:18px;color:#1d1c1d;}
.notif{margin:12px 20px 0 20px;padding:8px 12px;border-radius:8px;background:#f4ede4;color:#1d1c1d;font-size:13px;}
.notif b{font-weight:700;}
.msg{display:flex;padding:16px 20px 20px 20px;}
.avatar{flex:none;width:36px;height:36px;border-radius:6px;background:#0b6e4f;color:#fff;font-weight:900;font-size:20px;display:flex;align-items:center;justify-content:center;margin-right:8px;}
.content{flex:1;min-width:0;color:#1d1c1d;font-size:15px;line-height:1.46668;}
.who{margin-bottom:2px;}
.name{font-weight:900;}
.app{display:inline-block;font-size:10px;font-weight:700;background:rgba(29,28,29,.13);color:rgba(29,28,29,.7);border-radius:2px;padding:0 3px;margin-left:4px;vertical-align:1px;line-height:16px;}
.ts{color:#616061;font-size:12px;margin-left:6px;}
.block{margin:4px 0;}
.pt{white-space:pre-wrap;overflow-wrap:anywhere;}
.header{font-size:18px;font-weight:900;line-height:1.33;margin:8px 0 4px 0;}
.fields{display:grid;grid-template-columns:1fr 1fr;column-gap:16px;row-gap:8px;margin:8px 0;}
.context{font-size:12px;color:#616061;display:flex;flex-wrap:wrap;gap:8px;margin:8px 0 0 0;}
.divider{border:0;border-top:1px solid #dddddd;margin:16px 0;}
.bad{border:2px solid #e01e5a;background:#fde8ee;color:#a0103c;padding:6px;font-size:13px;}
`;

/** A Slack text object: plain_text is shown verbatim; anything else is flagged in red (Vigie never sends it). */
function slackText(obj) {
  if (!obj || typeof obj !== 'object') return `<div class="bad">invalid text object</div>`;
  if (obj.type !== 'plain_text') return `<div class="bad">${escapeHtml(obj.type)} text: Slack would interpret it: ${escapeHtml(obj.text)}</div>`;
  // emoji:true would turn :shortcodes: into emoji; Vigie sends emoji:false, so they stay as typed.
  return `<span class="pt">${escapeHtml(obj.text)}</span>`;
}

function slackBlock(b) {
  switch (b.type) {
    case 'header':
      return `<div class="block header">${slackText(b.text)}</div>`;
    case 'section':
      if (b.fields) return `<div class="block fields">${b.fields.map((f) => `<div>${slackText(f)}</div>`).join('')}</div>`;
      return `<div class="block">${slackText(b.text)}</div>`;
    case 'context':
      return `<div class="block context">${b.elements.map((e) => `<div>${slackText(e)}</div>`).join('')}</div>`;
    case 'divider':
      return `<hr class="divider">`;
    default:
      return `<div class="bad">unsupported block type ${escapeHtml(b.type)}</div>`;
  }
}

/** Slack's mrkdwn entities in the notification fallback, decoded for display. */
function slackFallback(text) {
  return escapeHtml(text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

function slackPreview(msg, channel, time) {
  const body = `
<div class="chan"># ${escapeHtml(channel)}</div>
<div class="notif"><b>Notification</b> (the message's fallback <code>text</code>): ${slackFallback(msg.text)}</div>
<div class="msg">
  <div class="avatar">V</div>
  <div class="content">
    <div class="who"><span class="name">Vigie</span><span class="app">APP</span><span class="ts">${escapeHtml(time)}</span></div>
    ${msg.blocks.map(slackBlock).join('\n    ')}
  </div>
</div>`;
  return page('Slack preview', SLACK_CSS, body);
}

// ---------------------------------------------------------------------------------------------
// Teams: an Adaptive Card 1.4 with TextBlock (Markdown), RichTextBlock/TextRun (no Markdown),
// FactSet and Container, in a Teams channel post.

const TEAMS_CSS = `
.chan{height:48px;background:#fff;border-bottom:1px solid #e0e0e0;display:flex;align-items:center;padding:0 20px;font-weight:700;font-size:16px;color:#242424;font-family:'Segoe UI','Liberation Sans',sans-serif;}
.post{display:flex;padding:16px 20px 20px 20px;font-family:'Segoe UI','Liberation Sans','DejaVu Sans',sans-serif;}
.avatar{flex:none;width:32px;height:32px;border-radius:50%;background:#5b5fc7;color:#fff;font-weight:700;font-size:15px;display:flex;align-items:center;justify-content:center;margin-right:10px;}
.bubble{flex:1;min-width:0;background:#fff;border-radius:6px;box-shadow:0 1px 2px rgba(0,0,0,.14);padding:10px 16px 16px 16px;}
.who{font-size:12px;color:#616161;margin-bottom:8px;}
.who b{color:#242424;font-weight:600;margin-right:6px;}
.card{border:1px solid #e0e0e0;border-radius:6px;padding:16px;color:#242424;font-size:14px;line-height:1.43;}
.el{margin-top:8px;overflow-wrap:anywhere;}
.el:first-child{margin-top:0;}
.sp-medium{margin-top:16px;}
.sp-large{margin-top:20px;}
.sep{border-top:1px solid #e0e0e0;padding-top:20px;}
.bolder{font-weight:600;}
.size-medium{font-size:17px;}
.size-large{font-size:21px;line-height:1.3;}
.subtle{color:#616161;}
.c-attention{color:#c4314b;}
.c-warning{color:#835c00;}
.c-good{color:#237b4b;}
.c-accent{color:#5b5fc7;}
.md-link{color:#5b5fc7;text-decoration:underline;}
.expr{background:#fff4ce;}
table.facts{border-collapse:collapse;}
table.facts td{padding:0 12px 4px 0;vertical-align:top;}
.bad{border:2px solid #c4314b;background:#fde7e9;color:#a4262c;padding:6px;font-size:13px;}
`;

function styleClasses(el) {
  const c = [];
  if (el.weight === 'Bolder') c.push('bolder');
  if (el.size === 'Medium') c.push('size-medium');
  if (el.size === 'Large' || el.size === 'ExtraLarge') c.push('size-large');
  if (el.isSubtle) c.push('subtle');
  if (el.color) c.push(`c-${String(el.color).toLowerCase()}`);
  return c;
}

/** Adaptive Cards expand {{DATE(…)}} and {{TIME(…)}} in every text; shown highlighted if one gets through. */
function expandFunctions(html) {
  return html.replace(/\{\{(DATE|TIME)\(([^)]*)\)\}\}/g, (_m, fn, arg) => {
    const d = new Date(arg.split(',')[0].trim());
    const shown = Number.isNaN(d.getTime()) ? `${fn}?` : fn === 'DATE' ? d.toDateString() : d.toTimeString().slice(0, 5);
    return `<span class="expr" title="expanded by the card">${escapeHtml(shown)}</span>`;
  });
}

/** The Markdown subset a TextBlock reads: backslash escapes, **bold**, _italic_, [links](url), line breaks. */
function teamsMarkdown(text) {
  const escapes = [];
  // Hold escaped characters aside (as private-use placeholders) so no Markdown rule sees them.
  let s = text.replace(/\\([\\`*_{}[\]()#+\-.!|<>~])/g, (_m, ch) => {
    escapes.push(ch);
    return `\ue000${escapes.length - 1}\ue001`;
  });
  s = escapeHtml(s);
  s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<span class="md-link">$1</span>');
  s = s.replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>');
  s = s.replace(/(^|[^\w])_([^_]+)_(?!\w)/g, '$1<i>$2</i>');
  s = s.replace(/(^|[^\w*])\*([^*]+)\*(?!\w)/g, '$1<i>$2</i>');
  s = s.replace(/\n/g, '<br>');
  s = s.replace(/\ue000(\d+)\ue001/g, (_m, i) => escapeHtml(escapes[Number(i)]));
  return expandFunctions(s);
}

function spacingClass(el) {
  return el.spacing === 'Medium' ? ' sp-medium' : el.spacing === 'Large' || el.spacing === 'ExtraLarge' ? ' sp-large' : '';
}

function teamsElement(el) {
  const cls = (extra = []) => ['el', ...extra].join(' ') + spacingClass(el) + (el.separator ? ' sep' : '');
  switch (el.type) {
    case 'TextBlock':
      return `<div class="${cls(styleClasses(el))}">${teamsMarkdown(String(el.text))}</div>`;
    case 'RichTextBlock':
      return `<div class="${cls()}">${(el.inlines ?? [])
        .map((r) =>
          r.type === 'TextRun'
            ? // A TextRun is not Markdown: its text is shown as given (date functions aside).
              `<span class="${styleClasses(r).join(' ')}" style="white-space:pre-wrap">${expandFunctions(escapeHtml(r.text))}</span>`
            : `<span class="bad">unsupported inline ${escapeHtml(r.type)}</span>`,
        )
        .join('')}</div>`;
    case 'FactSet':
      return `<table class="${cls(['facts'])}">${(el.facts ?? [])
        .map((f) => `<tr><td class="bolder">${teamsMarkdown(f.title)}</td><td>${teamsMarkdown(f.value)}</td></tr>`)
        .join('')}</table>`;
    case 'Container':
      return `<div class="${cls()}">${(el.items ?? []).map(teamsElement).join('\n')}</div>`;
    default:
      return `<div class="bad">unsupported element ${escapeHtml(el.type)}</div>`;
  }
}

function teamsPreview(msg, channel, time) {
  const att = msg.attachments?.[0];
  const card = att?.content;
  const inner =
    att?.contentType === 'application/vnd.microsoft.card.adaptive' && card?.type === 'AdaptiveCard'
      ? (card.body ?? []).map(teamsElement).join('\n')
      : `<div class="bad">not an Adaptive Card attachment</div>`;
  const body = `
<div class="chan">Security alerts &rsaquo; ${escapeHtml(channel)}</div>
<div class="post">
  <div class="avatar">V</div>
  <div class="bubble">
    <div class="who"><b>Vigie (via Workflows)</b>${escapeHtml(time)}</div>
    <div class="card">
${inner}
    </div>
  </div>
</div>`;
  return page('Teams preview', TEAMS_CSS, body, '#f5f5f5');
}

// ---------------------------------------------------------------------------------------------
// E-mail: the HTML part exactly as rendered, shown in a plain mail-reader frame (subject and
// addresses above it). The frame is a sandboxed srcdoc iframe: no script runs inside it, as in
// a mail client.

const EMAIL_CSS = `
.hdr{padding:14px 20px 12px 20px;border-bottom:1px solid #d0d0d0;background:#f7f7f7;font-family:'Segoe UI','Liberation Sans','DejaVu Sans',sans-serif;font-size:13px;color:#333;}
.subject{font-size:18px;font-weight:600;color:#1b1b1b;margin-bottom:6px;}
.hdr div{margin:1px 0;}
.hdr span{color:#777;display:inline-block;width:64px;}
iframe{display:block;border:0;width:${WIDTH}px;height:400px;}
`;

function emailPreview(mail, sender, to, date, iframeHeight) {
  const body = `
<div class="hdr">
  <div class="subject">${escapeHtml(mail.subject)}</div>
  <div><span>From</span>${escapeHtml(sender)}</div>
  <div><span>To</span>${escapeHtml(to)}</div>
  <div><span>Date</span>${escapeHtml(date)}</div>
</div>
<iframe sandbox="allow-same-origin" data-fit${iframeHeight ? ` style="height:${iframeHeight}px"` : ''} srcdoc="${escapeHtml(mail.html)}"></iframe>`;
  return page('E-mail preview', EMAIL_CSS, body);
}

// ---------------------------------------------------------------------------------------------
// Chromium.

function chromium() {
  const candidates = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter(Boolean);
  for (const c of candidates) {
    try {
      execFileSync(c, ['--version'], { stdio: 'ignore' });
      return c;
    } catch {
      // next
    }
  }
  throw new Error('no Chromium found: install it (Debian: apt-get install chromium) or set CHROMIUM=/path/to/chrome');
}

const BASE_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--force-device-scale-factor=1', '--disable-extensions', '--no-first-run'];

function run(bin, flags) {
  return execFileSync(bin, [...BASE_FLAGS, ...flags], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
}

/** The rendered height of the page, read back from the DOM after the page's own script ran. */
function measure(bin, file) {
  const dom = run(bin, ['--dump-dom', '--virtual-time-budget=2000', `--window-size=${WIDTH},1000`, pathToFileURL(file).href]);
  const m = /data-height="(\d+)"/.exec(dom);
  if (!m) throw new Error(`could not measure ${file}`);
  const iframe = /data-iframe="(\d+)"/.exec(dom);
  return { height: Number(m[1]), iframe: iframe ? Number(iframe[1]) : undefined };
}

function screenshot(bin, file, png, height) {
  run(bin, [`--screenshot=${png}`, '--virtual-time-budget=2000', `--window-size=${WIDTH},${height}`, pathToFileURL(file).href]);
  if (!fs.existsSync(png)) throw new Error(`chromium wrote no ${png}`);
}

// ---------------------------------------------------------------------------------------------
// Main.

const outDir = option('--out') ? path.resolve(option('--out')) : fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-alert-samples-'));
fs.mkdirSync(outDir, { recursive: true });

const alert = await sampleAlert(demoInputs);
// The rule name comes through the whole pipeline; the display name is set on the alert itself,
// since the demo's people come from the identity map of the configuration.
const hostile = { ...(await sampleAlert(hostileInputs(alert, outDir))), person: HOSTILE_PERSON };

const SENDER = 'Vigie <vigie@party.example>';
const TO = 'security@party.example, it@party.example';
// The message arrives shortly after the event: its time in the client, and the e-mail's Date.
const sentAt = new Date(Date.parse(alert.last_time) + 38_000);
const DATE = sentAt.toUTCString().replace('GMT', '+0000');
const TIME = sentAt.toISOString().slice(11, 16);

const samples = [];
for (const [prefix, a] of [
  ['', alert],
  ['hostile-', hostile],
]) {
  const slack = renderSlack([a], 'en');
  const teams = renderTeams([a], 'en');
  const email = renderEmail([a], 'en');
  const write = (name, content) => {
    const file = path.join(outDir, `${prefix}${name}`);
    fs.writeFileSync(file, content);
    return file;
  };
  write('alert.json', `${safeJson(a)}\n`);
  write('slack.json', `${JSON.stringify(slack, null, 2)}\n`);
  write('teams.json', `${JSON.stringify(teams, null, 2)}\n`);
  write('email.html', email.html);
  write('email.txt', `Subject: ${email.subject}\n\n${email.text}\n`);
  samples.push(
    { png: `alert-${prefix}slack.png`, html: write('slack-preview.html', slackPreview(slack, 'security-alerts', TIME)) },
    { png: `alert-${prefix}teams.png`, html: write('teams-preview.html', teamsPreview(teams, 'Vigie', TIME)) },
    { png: `alert-${prefix}email.png`, html: write('email-preview.html', emailPreview(email, SENDER, TO, DATE)), email, write },
  );
  samples.at(-1).docs = { prefix, alert: a, slack, teams, email };
}

if (!flag('--no-screenshots')) {
  const bin = chromium();
  fs.mkdirSync(IMG_DIR, { recursive: true });
  for (const s of samples) {
    let file = s.html;
    let { height, iframe } = measure(bin, file);
    if (s.email) {
      // Fix the iframe's height in the page so that the screenshot does not depend on script timing.
      file = s.write('email-preview.html', emailPreview(s.email, SENDER, TO, DATE, iframe));
      ({ height } = measure(bin, file));
    }
    const png = path.join(IMG_DIR, s.png);
    screenshot(bin, file, png, height);
    console.log(`${path.relative(ROOT, png)}  ${WIDTH}×${height}  ${(fs.statSync(png).size / 1024).toFixed(0)} KB`);
  }
}

// ---------------------------------------------------------------------------------------------
// docs/alerts.md: the blocks between <!-- generated:NAME --> and <!-- /generated:NAME -->.

if (!flag('--no-docs') && fs.existsSync(DOC)) {
  const fence = (lang, text) => `\`\`\`${lang}\n${text.replace(/\n$/, '')}\n\`\`\``;
  const blocks = {};
  for (const s of samples.filter((x) => x.docs)) {
    const { prefix, alert: a, slack, teams, email } = s.docs;
    blocks[`${prefix}alert`] = fence('json', safeJson(a));
    blocks[`${prefix}slack`] = fence('json', safeJson(slack));
    blocks[`${prefix}teams`] = fence('json', safeJson(teams));
    blocks[`${prefix}email-subject`] = fence('text', `Subject: ${email.subject}`);
    blocks[`${prefix}email-html`] = fence('html', email.html);
    blocks[`${prefix}email-text`] = fence('text', email.text);
  }
  let doc = fs.readFileSync(DOC, 'utf8');
  const missing = [];
  for (const [name, text] of Object.entries(blocks)) {
    const re = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!re.test(doc)) {
      missing.push(name);
      continue;
    }
    doc = doc.replace(re, (_m, open, close) => `${open}\n${text}\n${close}`);
  }
  fs.writeFileSync(DOC, doc);
  console.log(`${path.relative(ROOT, DOC)} refreshed${missing.length ? ` (no marker for: ${missing.join(', ')})` : ''}`);
}

console.log(`payloads and previews in ${outDir}`);
