// Channel and server options every Loom process uses, so limits agree on both ends of a connection.
import type { ChannelOptions } from '@grpc/grpc-js';

/** Default largest message a Loom process accepts; graphs are split below it, data is chunked well below it. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 2 ** 20;

function sharedOptions(maxMessageBytes: number): ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.enable_retries': 0,
    // A peer whose event loop was blocked (a long synchronous step) sends its overdue keepalive pings in a
    // burst; counting those as abuse makes the server GOAWAY and refuse the next call. Peers are authenticated.
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    'grpc.http2.max_ping_strikes': 0,
  };
}

/** Options for the channels clients and workers open. */
export function grpcOptions(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): ChannelOptions {
  return {
    ...sharedOptions(maxMessageBytes),
    // Find dead servers on idle connections; streams already notice closed sockets at once.
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    // HTTP/2's default 64 KiB receive window makes a sender wait for WINDOW_UPDATEs every 64 KiB; with 16 MiB,
    // a 64 MiB GetData stream ran 1.2 GB/s instead of 0.3 GB/s on loopback (measured). grpc-js applies it on
    // the receiving (client) side, which is where partitions arrive.
    'grpc-node.flow_control_window': 16 * 2 ** 20,
  };
}

/**
 * Options for the scheduler's and workers' servers. Servers ping patiently: a client busy in synchronous code
 * for seconds (writing a dataset, building a big graph) must not lose its session and everything it holds.
 * Dead workers are found by their heartbeats and closed streams, not by server pings.
 */
export function grpcServerOptions(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): ChannelOptions {
  return {
    ...sharedOptions(maxMessageBytes),
    'grpc.keepalive_time_ms': 120_000,
    'grpc.keepalive_timeout_ms': 60_000,
    // Node's http2 refuses new streams once a session buffers more than maxSessionMemory (10 MB by default);
    // with 16 MiB windows and 64 MiB messages that is too little.
    'grpc-node.max_session_memory': 256,
  };
}
