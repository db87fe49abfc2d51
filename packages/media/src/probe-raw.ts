/**
 * The normalised probe data both readers produce: `probe.ts` (ffprobe) and `probe-ffmpeg.ts`
 * (the ffmpeg fallback). A leaf file, so neither reader imports the other for its types.
 */

/** @internal normalised probe data, shared by the ffprobe and ffmpeg readers. */
export interface RawStream {
  index: number;
  type: string;
  codec: string;
  profile: string;
  level: number;
  width: number;
  height: number;
  /** frames per second, 0 if unknown */
  fps: number;
  /** seconds per timestamp tick */
  timeBase: number;
  frames?: number;
}
/** @internal */
export interface RawPacket {
  stream: number;
  pts: number | null;
  duration: number | null;
  key: boolean;
}
/** @internal */
export interface RawProbe {
  streams: RawStream[];
  packets: RawPacket[];
}
