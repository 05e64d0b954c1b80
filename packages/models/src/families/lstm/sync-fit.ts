// A synchronous `fit` over an asynchronous trainer. ModelFamily.fit is synchronous by contract (families run
// inside task threads as plain calls), but onnxruntime-node runs sessions only asynchronously. So one fit
// posts its series to a helper thread, which runs the batched trainer with M = 1, and blocks on Atomics.wait
// until the helper has posted the answer and raised a shared flag; the answer is then taken off the port
// with receiveMessageOnPort, which needs no event-loop turn. One helper per calling thread, started on
// first use and unref'd, keeps its onnxruntime sessions between fits.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { FamilyError, type FamilyErrorCode } from '../errors.js';
import type { FitResult } from '../family.js';
import type { LstmParams } from './lstm.js';

export interface FitRequest {
  readonly params: Required<LstmParams>;
  readonly values: Float64Array;
}

export type FitReply =
  | { readonly ok: true; readonly result: FitResult }
  | { readonly ok: false; readonly code: FamilyErrorCode | undefined; readonly message: string };

/** Flag values in the shared Int32Array: waiting, answered, helper gone. */
export const WAITING = 0;
export const ANSWERED = 1;
export const EXITED = 2;

interface Helper {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly flag: Int32Array;
}

let helper: Helper | undefined;

function startHelper(): Helper {
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL('./fit-thread.js', import.meta.url), { workerData: { port: port2, flag }, transferList: [port2] });
  worker.unref();
  port1.unref();
  return { worker, port: port1, flag };
}

export function fitInHelperThread(params: Required<LstmParams>, values: Float64Array): FitResult {
  helper ??= startHelper();
  const { port, flag } = helper;
  Atomics.store(flag, 0, WAITING);
  port.postMessage({ params, values } satisfies FitRequest);
  Atomics.wait(flag, 0, WAITING);
  const reply = receiveMessageOnPort(port)?.message as FitReply | undefined;
  if (reply === undefined) {
    helper = undefined;
    throw new Error('the lstm fit thread exited without answering');
  }
  if (reply.ok) return reply.result;
  throw reply.code === undefined ? new Error(reply.message) : new FamilyError(reply.code, reply.message);
}
