// A stand-in for dashboard pages left open: a separate process that opens N event streams on the dashboard and
// reads and parses every update as a page would (so the scheduler does all it does for real viewers), printing
// `ready` once every stream has its first update. Used by bench:core's dashboard-load row.
//
// It reads with node:http rather than fetch: the stand-in's own cost lands on the same two cores as the cluster,
// and fetch's stream machinery cost a few hundred milliseconds of CPU per run beyond the parsing a page does.
import { get } from 'node:http';

const [url, countText] = process.argv.slice(2);
if (url === undefined) throw new Error('usage: dashboard-viewers <dashboard url> [streams]');
const streams = Number(countText ?? 3);
let ready = 0;
let updates = 0;
/** CPU used to start and connect, which is not part of what open pages cost while work runs. */
let atReady: NodeJS.CpuUsage | undefined;

function view(): void {
  get(new URL('/api/v1/events', url), (response) => {
    if (response.statusCode !== 200) throw new Error(`the event stream answered ${response.statusCode}`);
    response.setEncoding('utf8');
    let buffered = '';
    let first = true;
    response.on('data', (chunk: string) => {
      buffered += chunk;
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
          if (++ready === streams) {
            atReady = process.cpuUsage();
            process.stdout.write('ready\n');
          }
        }
      }
    });
  }).on('error', (error) => {
    process.stderr.write(`dashboard viewer: ${String(error)}\n`);
    process.exit(1);
  });
}

for (let i = 0; i < streams; i++) view();
process.on('SIGTERM', () => {
  const ms = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
  const total = ms(process.cpuUsage());
  const start = atReady === undefined ? total : ms(atReady);
  process.stderr.write(`dashboard viewers: ${updates} updates read; CPU ${start.toFixed(0)} ms to start and connect, ${(total - start).toFixed(0)} ms after\n`);
  process.exit(0);
});
