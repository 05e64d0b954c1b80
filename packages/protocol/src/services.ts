// grpc-js service definitions for the two services in proto/loom/v1/loom.proto, wired to the generated
// static encoders (faster than proto-loader's reflection, and typed).
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { pb, type loom } from './wire.js';

interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

function method<Req, Res>(
  path: string,
  request: MessageCodec<Req>,
  response: MessageCodec<Res>,
  streaming: { requestStream: boolean; responseStream: boolean },
): MethodDefinition<Req, Res> {
  return {
    path,
    ...streaming,
    requestSerialize: (message: Req) => toBuffer(request.encode(message).finish()),
    requestDeserialize: (bytes: Buffer) => request.decode(bytes),
    responseSerialize: (message: Res) => toBuffer(response.encode(message).finish()),
    responseDeserialize: (bytes: Buffer) => response.decode(bytes),
  };
}

// protobufjs hands back a Buffer in Node already; this only avoids a copy when it does.
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const unary = { requestStream: false, responseStream: false };
const bidi = { requestStream: true, responseStream: true };
const serverStream = { requestStream: false, responseStream: true };

export interface SchedulerServiceDefinition extends ServiceDefinition {
  clientSession: MethodDefinition<loom.v1.IClientToScheduler, loom.v1.ISchedulerToClient>;
  submitGraph: MethodDefinition<loom.v1.ISubmitGraphRequest, loom.v1.ISubmitGraphReply>;
  workerSession: MethodDefinition<loom.v1.IWorkerToScheduler, loom.v1.ISchedulerToWorker>;
  info: MethodDefinition<loom.v1.IInfoRequest, loom.v1.IClusterInfo>;
}

export interface WorkerServiceDefinition extends ServiceDefinition {
  getData: MethodDefinition<loom.v1.IGetDataRequest, loom.v1.IDataChunk>;
}

/**
 * Senders may pass partial objects (the I-types). What arrives is always a decoded message class with every field
 * present (defaults for absent ones): receivers may treat it as `loom.v1.X` rather than `loom.v1.IX`.
 */
export const schedulerService: SchedulerServiceDefinition = {
  clientSession: method('/loom.v1.Scheduler/ClientSession', pb.ClientToScheduler, pb.SchedulerToClient, bidi),
  submitGraph: method('/loom.v1.Scheduler/SubmitGraph', pb.SubmitGraphRequest, pb.SubmitGraphReply, unary),
  workerSession: method('/loom.v1.Scheduler/WorkerSession', pb.WorkerToScheduler, pb.SchedulerToWorker, bidi),
  info: method('/loom.v1.Scheduler/Info', pb.InfoRequest, pb.ClusterInfo, unary),
};

export const workerService: WorkerServiceDefinition = {
  getData: method('/loom.v1.Worker/GetData', pb.GetDataRequest, pb.DataChunk, serverStream),
};
