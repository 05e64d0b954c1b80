// A stand-in for dashboard pages left open: a separate process that opens N event streams on the dashboard and
// reads and parses every update as a page would (so the scheduler does all it does for real viewers), printing
// `ready` once every stream has its first update. Used by bench:core's dashboard-load row.
const [url, countText] = process.argv.slice(2);
if (url === undefined) throw new Error('usage: dashboard-viewers <dashboard url> [streams]');
const streams = Number(countText ?? 3);
let ready = 0;
let updates = 0;

async function view(): Promise<void> {
  const response = await fetch(new URL('/api/v1/events', url));
  if (!response.ok || response.body === null) throw new Error(`the event stream answered ${response.status}`);
  const decoder = new TextDecoder();
  let buffered = '';
  let first = true;
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const frame = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = frame.split('\n').find((line) => line.startsWith('data: '));
      if (data === undefined) continue;
      JSON.parse(data.slice(6));
      updates += 1;
      if (first) {
        first = false;
        if (++ready === streams) process.stdout.write('ready\n');
      }
    }
  }
}

for (let i = 0; i < streams; i++) {
  view().catch((error: unknown) => {
    process.stderr.write(`dashboard viewer: ${String(error)}\n`);
    process.exit(1);
  });
}
process.on('SIGTERM', () => {
  process.stderr.write(`dashboard viewers: ${updates} updates read\n`);
  process.exit(0);
});
