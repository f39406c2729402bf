/** The worker module of the chunk pool: decodes or encodes jobs and posts results back. */

import {
  CompressorCache,
  type DecodeJob,
  decodeJob,
  type EncodeJob,
  encodeJob,
} from "./chunk_job.ts";
import { DecompressorCache } from "./registry.ts";

/** A job as posted to the worker. */
export type WorkerRequest =
  | { readonly id: number; readonly kind: "decode"; readonly job: DecodeJob }
  | { readonly id: number; readonly kind: "encode"; readonly job: EncodeJob };

/** The worker's answer. */
export type WorkerResponse =
  | {
    readonly id: number;
    readonly output: Uint8Array;
    readonly input?: Uint8Array;
    readonly storedSizes?: Uint32Array;
  }
  | { readonly id: number; readonly error: string };

const decoders = new DecompressorCache();
const encoders = new CompressorCache();
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerResponse, transfer?: Transferable[]): void;
};

scope.onmessage = (event) => {
  const request = event.data;
  try {
    if (request.kind === "decode") {
      const output = decodeJob(request.job, decoders);
      const input = request.job.input;
      // Both buffers go back, so the pool can reuse them for later jobs.
      const transfer = output.buffer === input.buffer
        ? [output.buffer]
        : [output.buffer, input.buffer];
      scope.postMessage({ id: request.id, output, input }, transfer as ArrayBuffer[]);
    } else {
      const { output, storedSizes } = encodeJob(request.job, encoders);
      const input = request.job.input;
      const transfer = output.buffer === input.buffer
        ? [output.buffer]
        : [output.buffer, input.buffer];
      scope.postMessage({ id: request.id, output, input, storedSizes }, transfer as ArrayBuffer[]);
    }
  } catch (error) {
    scope.postMessage({
      id: request.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
};
