// A ProgressStream that records what is written to it, as a terminal (isTTY) or as a file or pipe.
import type { ProgressStream } from '../src/index.js';

export interface RecordingStream extends ProgressStream {
  text: string;
  writes: number;
  /**
   * Resolves at the next write (a display's next draw), so a test waits for the draw, not for a fixed time;
   * rejects if none comes within 5 s. (The display's own timer is unref'd: the guard keeps the process waiting.)
   */
  nextWrite(): Promise<void>;
}

export function recordingStream(isTTY: boolean, size?: { columns: number; rows: number }): RecordingStream {
  let waiting: Array<() => void> = [];
  return {
    isTTY,
    ...size,
    text: '',
    writes: 0,
    write(chunk: string) {
      this.text += chunk;
      this.writes++;
      const wake = waiting;
      waiting = [];
      for (const resolve of wake) resolve();
      return true;
    },
    nextWrite() {
      return new Promise<void>((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error('no write within 5 s')), 5_000);
        waiting.push(() => {
          clearTimeout(guard);
          resolve();
        });
      });
    },
  };
}
