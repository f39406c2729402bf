/**
 * wimkit: read, apply and verify Windows Imaging (WIM, ESD, SWM) files from Deno.
 *
 * @example Apply the only image of a WIM
 * ```ts
 * import { applyImage, Wim } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * await using wim = await Wim.open("tests/fixtures/lzx.wim");
 * const target = await Deno.makeTempDir();
 * const report = await applyImage(wim, 1, target);
 * assert.ok(report.files > 0);
 * await Deno.remove(target, { recursive: true });
 * ```
 *
 * @module
 */

export {
  CodecError,
  CompressionMismatchError,
  SourceChangedError,
  UnsafePathError,
  WimFormatError,
  WimIntegrityError,
  WimkitError,
} from "./lib/errors.ts";
export type { WimkitErrorCode, WimkitErrorContext } from "./lib/errors.ts";
export type { OperationOptions, ProgressEvent, Warning, WarningCode } from "./lib/progress.ts";
export type { ChunkCompressor, ChunkDecompressor, CompressionType } from "./lib/codecs/codec.ts";
export { XpressDecompressor } from "./lib/codecs/xpress_decompress.ts";
export { XpressCompressor } from "./lib/codecs/xpress_compress.ts";
export { LzxCompressor } from "./lib/codecs/lzx_compress.ts";
export { LzmsCompressor } from "./lib/codecs/lzms_compress.ts";
export { LzxDecompressor } from "./lib/codecs/lzx_decompress.ts";
export { LzmsDecompressor } from "./lib/codecs/lzms_decompress.ts";
export {
  LzmsCompressionStream,
  LzmsDecompressionStream,
  LzxCompressionStream,
  LzxDecompressionStream,
  XpressCompressionStream,
  XpressDecompressionStream,
} from "./lib/codecs/streams.ts";
export type { CompressionStreamOptions } from "./lib/codecs/streams.ts";
export { InlineChunkPool, WorkerChunkPool } from "./lib/codecs/chunk_pool.ts";
export type { ChunkPool } from "./lib/codecs/chunk_pool.ts";
export { FileAttribute, WIM_HEADER_SIZE } from "./lib/format/constants.ts";
export { parseHeader } from "./lib/format/header.ts";
export type { WimHeader } from "./lib/format/header.ts";
export type { ResourceHeader } from "./lib/format/resource_header.ts";
export type { ImageXmlInfo } from "./lib/format/xml_info.ts";
export { dentryStreams, findDentry, isDirectory, walkTree } from "./lib/format/metadata.ts";
export type {
  DentryNode,
  DentryStreams,
  ImageMetadata,
  WalkedDentry,
} from "./lib/format/metadata.ts";
export { readUnixData } from "./lib/format/tagged_items.ts";
export type { UnixData } from "./lib/format/tagged_items.ts";
export { Wim } from "./lib/wim/wim.ts";
export type { WimImage, WimOpenOptions } from "./lib/wim/wim.ts";
export { openSource } from "./lib/io/open_source.ts";
export type { OpenSourceOptions } from "./lib/io/open_source.ts";
export type { ByteRange, ByteSource } from "./lib/io/byte_source.ts";
export type { BlobInfo } from "./lib/wim/blob_location.ts";
export { BlobCache, DEFAULT_CACHE_MAX_BYTES } from "./lib/wim/blob_cache.ts";
export type {
  BlobCacheOptions,
  BlobCacheStats,
  CacheEntryWriter,
  VerifiedEntry,
} from "./lib/wim/blob_cache.ts";
export { parseByteSize } from "./lib/wim/byte_size.ts";
export { verifyWim } from "./lib/wim/verify.ts";
export type { VerifyReport } from "./lib/wim/verify.ts";
export { applyImage } from "./lib/fs/apply.ts";
export { applyPipableStream } from "./lib/fs/pipable_apply.ts";
export type { PipableApplyOptions } from "./lib/fs/pipable_apply.ts";
export { readPipableInfo } from "./lib/wim/pipable_info.ts";
export type { PipableWimInfo } from "./lib/wim/pipable_info.ts";
export { exportImagesToPipe, writePipableWim } from "./lib/wim/pipable_writer.ts";
export type { PipeWriteOptions } from "./lib/wim/pipable_writer.ts";
export { scanTree } from "./lib/fs/scan.ts";
export type { ScanOptions, ScanResult } from "./lib/fs/scan.ts";
export { parseCaptureConfig } from "./lib/fs/capture_config.ts";
export type { CaptureConfig } from "./lib/fs/capture_config.ts";
export { windowsProperties } from "./lib/fs/windows_info.ts";
export { appendToWim, createWim } from "./lib/wim/writer.ts";
export { deleteImages, exportImages, joinWim, optimizeWim } from "./lib/wim/manage.ts";
export type { ExportOptions } from "./lib/wim/manage.ts";
export { partName, splitWim } from "./lib/wim/split.ts";
export { readImageTree } from "./lib/wim/image_source.ts";
export type { ImageTree } from "./lib/wim/image_source.ts";
export { parseUpdateCommands, updateImage } from "./lib/fs/update.ts";
export type { UpdateCommand, UpdateOptions } from "./lib/fs/update.ts";
export type { ImageToWrite, WriteOptions, WriteReport } from "./lib/wim/writer.ts";
export type { ContentSource, NewNode } from "./lib/wim/new_image.ts";
export { openHive } from "./lib/registry/hive.ts";
export type { Hive, HiveKey } from "./lib/registry/hive.ts";
export type { HiveValue } from "./lib/registry/hive_value.ts";
export type { ApplyOptions, ApplyReport } from "./lib/fs/apply.ts";
export { filetimeToUnix, getFileTimes, preciseTimes } from "./lib/fs/timestamps.ts";
export { exportImageToZip } from "./lib/fs/zip_export.ts";
export { scanZip } from "./lib/fs/zip_scan.ts";
export type { ExportZipOptions, ExportZipReport } from "./lib/fs/zip_export.ts";
export { applyToVolume } from "./recipes/apply_to_volume.ts";
export type {
  ApplyToVolumeOptions,
  ApplyToVolumeReport,
  VolumePreflight,
} from "./recipes/apply_to_volume.ts";
export { appendWithCompressionCheck } from "./recipes/append_with_compression_check.ts";
export type {
  AppendWithCompressionCheckOptions,
  AppendWithCompressionCheckReport,
} from "./recipes/append_with_compression_check.ts";
export { decideVerdict, sysprepCheck } from "./recipes/sysprep_check.ts";
export type {
  SysprepCheckOptions,
  SysprepEvidence,
  SysprepReport,
  SysprepVerdict,
} from "./recipes/sysprep_check.ts";
export { captureToShare } from "./recipes/capture_to_share.ts";
export type { CaptureToShareOptions, CaptureToShareReport } from "./recipes/capture_to_share.ts";
export { openImageView } from "./lib/view/image_view.ts";
export type { ImageViewOptions } from "./lib/view/image_view.ts";
export { mountImageView } from "./lib/fuse/mount.ts";
export type { ImageMount, MountImageOptions, MountOutcome } from "./lib/fuse/mount.ts";
export { unmountImage } from "./lib/fuse/unmount.ts";
export type { UnmountReport } from "./lib/fuse/unmount.ts";
export type { UnmountRequest, UnmountResponse } from "./lib/fuse/control.ts";
export type { ServeOptions } from "./lib/fuse/context.ts";
export { serveDav } from "./lib/dav/dav_server.ts";
export type { DavServer, ServeDavOptions } from "./lib/dav/dav_server.ts";
export { DavService } from "./lib/dav/dav_handler.ts";
export type { DavCommitReport, DavServiceOptions } from "./lib/dav/dav_handler.ts";
export { combineImageViews, imageFolderNames } from "./lib/dav/multi_image_view.ts";
export type { NamedImageView } from "./lib/dav/multi_image_view.ts";
export type {
  CommitResult,
  ImageView,
  ViewEntry,
  ViewFiletimes,
  ViewTimes,
} from "./lib/view/types.ts";
export { ViewError } from "./lib/view/types.ts";
export type { ViewErrorReason, ViewKind } from "./lib/view/types.ts";
