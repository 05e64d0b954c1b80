// A ProgressStream that records what is written to it, as a terminal (isTTY) or as a file or pipe.
import type { ProgressStream } from '../src/index.js';

export interface RecordingStream extends ProgressStream {
  text: string;
  writes: number;
}

export function recordingStream(isTTY: boolean, size?: { columns: number; rows: number }): RecordingStream {
  return {
    isTTY,
    ...size,
    text: '',
    writes: 0,
    write(chunk: string) {
      this.text += chunk;
      this.writes++;
      return true;
    },
  };
}
