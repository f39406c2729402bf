/**
 * How wimkit's codec stream classes frame chunks, so a compressed stream can be decoded without
 * knowing its length in advance (the same need wimlib's pipable WIMs answer with a size prefix
 * before each chunk).
 *
 * A stream is a 4-byte header, u32le chunk size (the LZX window follows it), then one frame per
 * chunk: u32le uncompressed size (1 .. chunk size; only the last frame may be shorter than the
 * chunk size), u32le stored size, and the stored bytes. A frame whose stored size equals its
 * uncompressed size holds the chunk raw. An empty input is a header and no frames.
 */

/** Bytes of the stream header. */
export const STREAM_HEADER_SIZE = 4;
/** Bytes of each frame header. */
export const FRAME_HEADER_SIZE = 8;
