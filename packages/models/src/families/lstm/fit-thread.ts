// The helper thread behind LstmForecaster.fit (see sync-fit.ts): fits each series it is sent with the batched
// trainer, posts the result, then raises the shared flag the blocked caller waits on.
import { workerData, type MessagePort } from 'node:worker_threads';
import { isFamilyError } from '../errors.js';
import { lstm, singleFit } from './lstm.js';
import { ANSWERED, EXITED, type FitReply, type FitRequest } from './sync-fit.js';

const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };

function raise(value: number): void {
  Atomics.store(flag, 0, value);
  Atomics.notify(flag, 0);
}

async function answer(request: FitRequest): Promise<FitReply> {
  try {
    return { ok: true, result: singleFit(await lstm(request.params).fitBatch([request.values])) };
  } catch (error) {
    return { ok: false, code: isFamilyError(error) ? error.code : undefined, message: error instanceof Error ? error.message : String(error) };
  }
}

port.on('message', (request: FitRequest) => {
  void answer(request).then((reply) => {
    port.postMessage(reply);
    raise(ANSWERED);
  });
});
// A caller blocked on the flag must not wait forever for a thread that is gone.
process.on('exit', () => raise(EXITED));
