/**
 * The services go-plugin's host expects next to the plugin's own (docs/velero-facts.md):
 * GRPCController.Shutdown, which the host calls when it kills the plugin; GRPCBroker.StartStream
 * and GRPCStdio.StreamStdio, which newer hosts open at connect. Velero brokers no connections and
 * discards the stdio data, so both streams stay open and silent until the plugin stops: an
 * error code other than Unavailable/Unimplemented on StreamStdio would fail the host's connect.
 */
import type { ServerDuplexStream, ServerUnaryCall, ServerWritableStream, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';

/** Streams the host holds open; ended when the plugin stops so the server can close. */
export class OpenStreams {
  private readonly streams = new Set<{ end(): void }>();

  hold(stream: { end(): void; on(event: 'cancelled' | 'close', f: () => void): unknown }): void {
    this.streams.add(stream);
    const release = () => this.streams.delete(stream);
    stream.on('cancelled', release);
    stream.on('close', release);
  }

  get size(): number {
    return this.streams.size;
  }

  endAll(): void {
    for (const stream of this.streams) {
      try {
        stream.end();
      } catch {
        // Already gone: nothing to end.
      }
    }
    this.streams.clear();
  }
}

/** Shutdown answers first, then asks the plugin to stop, so the host's call returns before the server closes. */
export function controllerImplementation(onShutdown: () => void): UntypedServiceImplementation {
  return {
    Shutdown: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      callback(null, {});
      setImmediate(onShutdown);
    },
  };
}

export function brokerImplementation(open: OpenStreams): UntypedServiceImplementation {
  return {
    StartStream: (call: ServerDuplexStream<unknown, unknown>) => {
      open.hold(call);
      // The host would only send ConnInfo for brokered connections, which no Velero plugin uses.
      call.on('data', () => {});
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
  };
}

export function stdioImplementation(open: OpenStreams): UntypedServiceImplementation {
  return {
    StreamStdio: (call: ServerWritableStream<unknown, unknown>) => {
      // Our logs go to stderr, which the host reads directly; nothing is forwarded here.
      open.hold(call);
      call.on('error', () => {});
    },
  };
}
