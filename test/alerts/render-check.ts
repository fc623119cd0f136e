/**
 * Independent checks of what the renderers produce, written from the platforms' documentation
 * rather than from src/: Block Kit limits, the Adaptive Card shape, and which HTML may appear.
 */
import { expect } from 'vitest';

// Characters that may never reach a receiver from data (ours are only `\n` in chosen places).
export const FORBIDDEN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff\u061c]/;

type Json = Record<string, unknown>;

/** Block Kit: ≤50 blocks, header plain_text ≤150, section text ≤3000, ≤10 fields of ≤2000, context ≤10 elements; and every text object is plain_text. */
export function checkBlockKit(msg: Json): void {
  const blocks = msg.blocks as Json[];
  expect(Array.isArray(blocks)).toBe(true);
  expect(blocks.length).toBeGreaterThan(0);
  expect(blocks.length).toBeLessThanOrEqual(50);
  const textObject = (o: unknown, max: number) => {
    const t = o as Json;
    expect(t.type).toBe('plain_text');
    expect(typeof t.text).toBe('string');
    expect((t.text as string).length).toBeGreaterThan(0);
    expect((t.text as string).length).toBeLessThanOrEqual(max);
    expect(t.text as string).not.toMatch(FORBIDDEN);
  };
  for (const b of blocks) {
    switch (b.type) {
      case 'header':
        textObject(b.text, 150);
        expect(b.text as Json).not.toHaveProperty('text', expect.stringContaining('\n'));
        break;
      case 'section':
        if (b.text) textObject(b.text, 3000);
        if (b.fields) {
          expect((b.fields as unknown[]).length).toBeLessThanOrEqual(10);
          for (const f of b.fields as unknown[]) textObject(f, 2000);
        }
        expect(b.text !== undefined || b.fields !== undefined).toBe(true);
        break;
      case 'context':
        expect((b.elements as unknown[]).length).toBeLessThanOrEqual(10);
        for (const e of b.elements as unknown[]) textObject(e, 3000);
        break;
      case 'divider':
        break;
      default:
        throw new Error(`unexpected block type ${String(b.type)}`);
    }
  }
  expect(JSON.stringify(msg)).not.toContain('"mrkdwn"');
  // The fallback text is mrkdwn: nothing in it may open a mention, link or format.
  expect(typeof msg.text).toBe('string');
  expect(msg.text as string).not.toMatch(/[<>&*_~`\n]/);
}

/** Adaptive Card 1.4 in a Teams message: required fields present, data only in TextRuns, no Markdown from data in TextBlocks. */
export function checkAdaptiveCard(msg: Json): { runs: string[]; textBlocks: string[] } {
  expect(msg.type).toBe('message');
  const attachments = msg.attachments as Json[];
  expect(attachments).toHaveLength(1);
  expect(attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive');
  const card = attachments[0]!.content as Json;
  expect(card.type).toBe('AdaptiveCard');
  expect(card.$schema).toBe('http://adaptivecards.io/schemas/adaptive-card.json');
  expect(card.version).toBe('1.4');
  const runs: string[] = [];
  const textBlocks: string[] = [];
  const walk = (items: unknown) => {
    expect(Array.isArray(items)).toBe(true);
    for (const el of items as Json[]) {
      if (el.type === 'TextBlock') {
        expect(typeof el.text).toBe('string');
        textBlocks.push(el.text as string);
      } else if (el.type === 'RichTextBlock') {
        expect(Array.isArray(el.inlines)).toBe(true);
        for (const r of el.inlines as Json[]) {
          expect(r.type).toBe('TextRun');
          expect(typeof r.text).toBe('string');
          runs.push(r.text as string);
        }
      } else if (el.type === 'Container') {
        walk(el.items);
      } else {
        throw new Error(`unexpected element ${String(el.type)}`);
      }
    }
  };
  walk(card.body);
  for (const r of runs) {
    expect(r).not.toMatch(FORBIDDEN);
    expect(r).not.toContain('\n');
    expect(r).not.toContain('{{');
  }
  for (const t of textBlocks) {
    expect(t).not.toMatch(FORBIDDEN);
    // Every Markdown-active character in a TextBlock is escaped.
    expect(t.replace(/\\./g, '')).not.toMatch(/[*_[\]`<>~#|]/);
  }
  expect(JSON.stringify(msg).length).toBeLessThan(28_000);
  return { runs, textBlocks };
}

const ALLOWED_TAG = /^<\/?(?:html|head|meta|title|body|h1|h2|span|table|tr|td|p|ul|ol|li|hr)(?:\s+(?:style|lang|charset|role)="[^"<>]*")*\s*>$/;

/** Every tag of the HTML part is one of ours, with only our attributes; no link, script, image or URL. */
export function checkEmailHtml(html: string): void {
  const body = html.replace(/^<!DOCTYPE html>\n/, '');
  const tags = body.match(/<[^>]*>?/g) ?? [];
  for (const tag of tags) expect(tag).toMatch(ALLOWED_TAG);
  expect(tags.join('')).not.toMatch(/href|src=|javascript:|onerror|<a\b|<script|<img|<style/i);
  // Outside tags, no raw angle bracket or quote: data is text, escaped.
  expect(body.replace(/<[^>]*>/g, '')).not.toMatch(/[<>"]/);
}
