// Synthetic two-class text for training tests: each message hides a class phrase at a random place among
// filler words, so a model must find it rather than read a fixed position.
const FILLER = ['the', 'report', 'was', 'sent', 'to', 'all', 'of', 'us', 'and', 'then', 'we', 'read', 'it', 'again', 'later'];
const PHRASES = { spam: ['win cash now', 'free prize inside', 'cheap pills online'], ham: ['see you at lunch', 'notes from the call', 'draft attached here'] };

export interface LabeledText {
  body: string;
  label: 'spam' | 'ham';
}

/** `count` messages of about `chars` characters, alternating classes, reproducible from `seed`. */
export function syntheticMessages(count: number, seed = 1, chars = 90): LabeledText[] {
  let state = seed >>> 0 || 1;
  const next = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
  return Array.from({ length: count }, (_, i) => {
    const label = i % 2 === 0 ? 'spam' : 'ham';
    const words: string[] = [];
    while (words.join(' ').length < chars) words.push(FILLER[next(FILLER.length)] as string);
    const phrases = PHRASES[label];
    words.splice(next(Math.min(words.length, 8)), 0, phrases[next(phrases.length)] as string);
    return { body: `${words.join(' ')} #${i}`, label };
  });
}
