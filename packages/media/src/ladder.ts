import { LadderError } from './errors.js'

/** One output rendition: name, output size and video bitrate. */
export interface RungSpec {
  name: string;
  width: number;
  height: number;
  videoKbps: number;
}

/** The standard 16:9 ladder, highest first. */
export const RUNGS: readonly RungSpec[] = Object.freeze([
  { name: '1080p', width: 1920, height: 1080, videoKbps: 5000 },
  { name: '720p', width: 1280, height: 720, videoKbps: 2800 },
  { name: '480p', width: 854, height: 480, videoKbps: 1400 },
  { name: '360p', width: 640, height: 360, videoKbps: 800 },
  { name: '240p', width: 426, height: 240, videoKbps: 400 }
] as RungSpec[])

/**
 * Parse a comma-separated ladder like `'720p,480p,360p'` (case-insensitive, whitespace
 * trimmed, duplicates dropped) into rungs sorted by height, highest first.
 * @throws LadderError on an empty ladder or an unknown rung (the message lists the valid ones).
 */
export function parseLadder (spec: string): RungSpec[] {
  const names = spec
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '')
  const valid = RUNGS.map((r) => r.name).join(', ')
  if (names.length === 0) throw new LadderError(`empty ladder "${spec}"; valid rungs: ${valid}`)
  const out = new Map<string, RungSpec>()
  for (const n of names) {
    const rung = RUNGS.find((r) => r.name === n)
    if (!rung) throw new LadderError(`unknown rung "${n}" in ladder "${spec}"; valid rungs: ${valid}`)
    out.set(rung.name, { ...rung })
  }
  return [...out.values()].sort((a, b) => b.height - a.height)
}

function even (n: number): number {
  return Math.max(2, Math.round(n / 2) * 2)
}

/**
 * Fit a ladder to a source: rungs taller than the source are dropped; each remaining rung keeps
 * its height (made even) and gets an even width computed from the source's aspect ratio, so a
 * 4:3 or portrait source is never stretched. The returned rungs carry the actual output size.
 * Returns `[]` when every rung is taller than the source (the caller then serves the source only).
 * @throws LadderError on a non-positive source size.
 */
export function ladderForSource (
  ladder: readonly RungSpec[],
  sourceWidth: number,
  sourceHeight: number
): RungSpec[] {
  if (!(sourceWidth > 0 && sourceHeight > 0)) {
    throw new LadderError(`invalid source size ${sourceWidth}x${sourceHeight}`)
  }
  const aspect = sourceWidth / sourceHeight
  const seen = new Set<string>()
  const out: RungSpec[] = []
  for (const rung of [...ladder].sort((a, b) => b.height - a.height)) {
    if (rung.height > sourceHeight || seen.has(rung.name)) continue
    seen.add(rung.name)
    const height = even(rung.height)
    // For 16:9 sources this reproduces the table widths (853.3 -> 854, 426.7 -> 426).
    const width = Math.min(even(height * aspect), Math.floor(sourceWidth / 2) * 2 || 2)
    out.push({ ...rung, width, height })
  }
  return out
}
