/** The worker module of the chunk pool: decodes or encodes jobs and posts results back. */

import {
  CompressorCache,
  type DecodeJob,
  decodeJob,
  type EncodeJob,
  encodeJob,
  transferList,
} from "./chunk_job.ts";
import { createCompressor, DecompressorCache } from "./registry.ts";
import type { LzmsCompressor } from "./lzms_compress.ts";
import type { LzmsMatchFinder } from "./lzms_match_finder.ts";
import { abortMatchRing, produceMatches } from "./lzms_match_ring.ts";

/** The match finder's half of an LZMS chunk shared by two workers (see lzms_match_ring.ts). */
export interface MatchFindJob {
  /** The chunk, in shared memory; x86-filtered in place by this job. */
  readonly input: Uint8Array;
  /** The match stream shared with the worker encoding the chunk. */
  readonly matchRing: SharedArrayBuffer;
  /** Compression level (wimlib scale; 0 = default). */
  readonly level: number;
}

/** A job as posted to the worker. */
export type WorkerRequest =
  | { readonly id: number; readonly kind: "decode"; readonly job: DecodeJob }
  | { readonly id: number; readonly kind: "encode"; readonly job: EncodeJob }
  | { readonly id: number; readonly kind: "find-matches"; readonly job: MatchFindJob };

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
const finders = new Map<number, LzmsMatchFinder>();

/** This worker's LZMS match finder for `level` (its tree is reused from chunk to chunk). */
function finderFor(level: number): LzmsMatchFinder {
  let finder = finders.get(level);
  if (!finder) {
    finder = (createCompressor("lzms", 0, level) as LzmsCompressor).createMatchFinder();
    finders.set(level, finder);
  }
  return finder;
}
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
      scope.postMessage({ id: request.id, output, input }, transferList(output, input));
    } else if (request.kind === "find-matches") {
      const { input, matchRing, level } = request.job;
      try {
        produceMatches(input, matchRing, finderFor(level));
      } catch (error) {
        abortMatchRing(matchRing);
        throw error;
      }
      scope.postMessage({ id: request.id, output: new Uint8Array(0) });
    } else {
      const { output, storedSizes } = encodeJob(request.job, encoders);
      const input = request.job.input;
      scope.postMessage(
        { id: request.id, output, input, storedSizes },
        transferList(output, input),
      );
    }
  } catch (error) {
    scope.postMessage({
      id: request.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
};
