import { readFile } from 'node:fs/promises'

/** Video PTS values (90 kHz ticks, file order) found in an MPEG-TS file's PES headers. */
export interface TsVideoTimes {
  /** PTS of every video PES that carries one, in file (decode) order. */
  pts: number[];
  /** Whether the first video packet had the random-access (keyframe) indicator set. */
  firstRandomAccess: boolean;
}

const VIDEO_STREAM_TYPES = new Set([0x01, 0x02, 0x10, 0x1b, 0x24, 0x42, 0xea])

function readPts (b: Buffer, o: number): number {
  return (
    ((b[o]! >> 1) & 0x07) * 2 ** 30 +
    b[o + 1]! * 2 ** 22 +
    (b[o + 2]! >> 1) * 2 ** 15 +
    b[o + 3]! * 2 ** 7 +
    (b[o + 4]! >> 1)
  )
}

/**
 * Minimal MPEG-TS reader: finds the first video elementary stream via PAT/PMT and returns the
 * PTS of each of its PES packets. Enough to learn where a segment starts and ends without
 * spawning ffprobe. PTS wrap-around (every 26.5 h) is not handled.
 */
export function parseTsVideoTimes (buf: Buffer): TsVideoTimes {
  let pmtPid = -1
  let videoPid = -1
  let firstRandomAccess = false
  const pts: number[] = []
  for (let i = 0; i + 188 <= buf.length; i += 188) {
    if (buf[i] !== 0x47) {
      // Lost sync: look for the next sync byte.
      const next = buf.indexOf(0x47, i + 1)
      if (next < 0) break
      i = next - 188
      continue
    }
    const pid = ((buf[i + 1]! & 0x1f) << 8) | buf[i + 2]!
    const pusi = (buf[i + 1]! & 0x40) !== 0
    const afc = (buf[i + 3]! >> 4) & 0x03
    if ((afc & 1) === 0) continue // no payload
    let p = i + 4
    let randomAccess = false
    if (afc & 2) {
      const afLen = buf[p]!
      if (afLen > 0) randomAccess = (buf[p + 1]! & 0x40) !== 0
      p += 1 + afLen
    }
    const end = i + 188
    if (p >= end || !pusi) continue
    if (pid === 0 || pid === pmtPid) {
      const t = p + 1 + buf[p]! // skip pointer_field
      if (t + 3 > end) continue
      const sectionEnd = Math.min(end, t + 3 + (((buf[t + 1]! & 0x0f) << 8) | buf[t + 2]!) - 4)
      if (pid === 0 && buf[t] === 0x00) {
        for (let e = t + 8; e + 4 <= sectionEnd; e += 4) {
          const program = (buf[e]! << 8) | buf[e + 1]!
          if (program !== 0) {
            pmtPid = ((buf[e + 2]! & 0x1f) << 8) | buf[e + 3]!
            break
          }
        }
      } else if (pid === pmtPid && buf[t] === 0x02 && videoPid < 0) {
        let e = t + 12 + (((buf[t + 10]! & 0x0f) << 8) | buf[t + 11]!)
        while (e + 5 <= sectionEnd) {
          const type = buf[e]!
          const esPid = ((buf[e + 1]! & 0x1f) << 8) | buf[e + 2]!
          if (VIDEO_STREAM_TYPES.has(type)) {
            videoPid = esPid
            break
          }
          e += 5 + (((buf[e + 3]! & 0x0f) << 8) | buf[e + 4]!)
        }
      }
      continue
    }
    if (pid !== videoPid || p + 14 > end) continue
    if (buf[p] !== 0 || buf[p + 1] !== 0 || buf[p + 2] !== 1) continue
    if ((buf[p + 7]! & 0x80) === 0) continue // no PTS
    if (pts.length === 0) firstRandomAccess = randomAccess
    pts.push(readPts(buf, p + 9))
  }
  return { pts, firstRandomAccess }
}

/** {@link parseTsVideoTimes} on a file. */
export async function readTsVideoTimes (file: string): Promise<TsVideoTimes> {
  return parseTsVideoTimes(await readFile(file))
}

/**
 * Start (first video PTS) and end (largest PTS + one frame) of a TS file's video, in seconds.
 * The frame duration is the smallest positive step between sorted PTS values.
 */
export function videoSpanSec (times: TsVideoTimes): { startSec: number; endSec: number } | null {
  if (times.pts.length === 0) return null
  const sorted = [...times.pts].sort((a, b) => a - b)
  let step = Infinity
  for (let k = 1; k < sorted.length; k++) {
    const d = sorted[k]! - sorted[k - 1]!
    if (d > 0 && d < step) step = d
  }
  if (!Number.isFinite(step)) step = 3000 // single frame: assume 30 fps
  return { startSec: times.pts[0]! / 90000, endSec: (sorted[sorted.length - 1]! + step) / 90000 }
}
