// A stand-in for the scheduler, inside this process, for the client's warm-up (Client.warmUp): it offers the
// part of a grpc-js Client that a Client's session uses, answers the hello with a welcome, and answers each
// graph with an acknowledgement and every wanted key's result inline, as a scheduler would once the tasks ran.
// What the client sends is encoded by its real encoders (its hand-written graph encoder included) and what it
// receives is decoded by its real decoder; the stand-in itself reads the messages as objects, not bytes.
import type { Client as GrpcClient } from '@grpc/grpc-js';
import { DEFAULT_MAX_MESSAGE_BYTES, LoopbackStream, pb, schedulerService, type loom } from '@loom/protocol';
import type { ChunkMessage } from './graph-wire.js';

/** Every task's result. */
export const LOOPBACK_RESULT = 1;
const VALUE = Buffer.from(JSON.stringify(LOOPBACK_RESULT));

export function loopbackScheduler(): GrpcClient {
  const method = schedulerService.clientSession;
  /** Wanted keys and task counts of graphs whose final chunk has not come yet. */
  const graphs = new Map<string, { wanted: string[]; tasks: number }>();
  const answer = (message: loom.v1.IClientToScheduler | { chunk: ChunkMessage }): loom.v1.ISchedulerToClient | undefined => {
    if ('hello' in message && message.hello) return { welcome: { clientId: 'warm-up', schedulerVersion: '0', maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES } };
    const submit = 'chunk' in message ? message.chunk : message.submit;
    if (!submit) return undefined;
    const graphId = submit.graphId ?? '';
    const graph = graphs.get(graphId) ?? { wanted: [], tasks: 0 };
    graph.wanted.push(...(submit.wantedKeys ?? []));
    graph.tasks += submit.tasks?.length ?? 0;
    if (!submit.final) {
      graphs.set(graphId, graph);
      return undefined;
    }
    graphs.delete(graphId);
    return {
      graphAcks: [{ graphId, tasksAdded: graph.tasks }],
      updates: graph.wanted.map((key) => ({
        key,
        state: pb.KeyUpdate.State.MEMORY,
        nbytes: VALUE.byteLength,
        codec: pb.Codec.CODEC_JSON,
        value: VALUE,
        hasValue: true,
        holders: ['warm-up:0'],
      })),
    };
  };
  const channel = {
    makeBidiStreamRequest(_path: string, serialize: (message: unknown) => Buffer, deserialize: (bytes: Buffer) => unknown) {
      const stream: LoopbackStream<unknown, unknown> = new LoopbackStream(
        serialize,
        deserialize,
        (_bytes, message) => {
          const reply = answer(message as loom.v1.IClientToScheduler | { chunk: ChunkMessage });
          if (reply) stream.receive(method.responseSerialize(reply));
        },
        () => setImmediate(() => stream.emit('status', { code: 0, details: '', metadata: stream.metadata })),
      );
      return stream;
    },
    close(): void {},
  };
  return channel as unknown as GrpcClient;
}
