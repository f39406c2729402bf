/** The worker module of the chunk pool: decodes jobs and posts the output back, transferred. */

import { type DecodeJob, decodeJob } from "./chunk_job.ts";
import { DecompressorCache } from "./registry.ts";

/** A job as posted to the worker. */
export interface WorkerRequest {
  readonly id: number;
  readonly job: DecodeJob;
}

/** The worker's answer. */
export type WorkerResponse =
  | { readonly id: number; readonly output: Uint8Array }
  | { readonly id: number; readonly error: string };

const cache = new DecompressorCache();
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerResponse, transfer?: Transferable[]): void;
};

scope.onmessage = (event) => {
  const { id, job } = event.data;
  try {
    const output = decodeJob(job, cache);
    scope.postMessage({ id, output }, [output.buffer as ArrayBuffer]);
  } catch (error) {
    scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};
