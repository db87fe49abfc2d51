import { readRaw, streamSpan } from './probe.js'

export interface Join {
  /** The earlier file. */
  from: string;
  /** The later file. */
  to: string;
  /** to.firstPts − (from.lastPts + from.lastDuration), ms; negative = overlap. */
  gapMs: number;
}

export interface JoinReport {
  video: Join[];
  audio: Join[];
  /** Largest |gapMs| over video joins (0 with fewer than two files). */
  maxVideoGapMs: number;
  /** Largest |gapMs| over audio joins (0 when the files have no audio). */
  maxAudioGapMs: number;
}

/**
 * Measure how consecutive segment files join, per stream type: for each pair,
 * gap = next file's earliest packet PTS − (this file's latest packet PTS + that packet's
 * duration). 0 means seamless; negative values are overlaps. Files without audio contribute
 * no audio joins. Uses packet timestamps only (no decoding).
 */
export async function measureJoins (
  files: string[],
  opts: { ffprobePath?: string | null; ffmpegPath?: string; signal?: AbortSignal }
): Promise<JoinReport> {
  const spans = []
  for (const file of files) {
    const raw = await readRaw(file, { ...opts, countFrames: false })
    const v = raw.streams.find((s) => s.type === 'video')
    const a = raw.streams.find((s) => s.type === 'audio')
    spans.push({
      file,
      video: v ? streamSpan(raw, v) : null,
      audio: a ? streamSpan(raw, a) : null
    })
  }
  const report: JoinReport = { video: [], audio: [], maxVideoGapMs: 0, maxAudioGapMs: 0 }
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]!
    const cur = spans[i]!
    for (const kind of ['video', 'audio'] as const) {
      const p = prev[kind]
      const c = cur[kind]
      if (!p || !c) continue
      const gapMs = Math.round((c.startSec - p.endSec) * 1e6) / 1e3
      report[kind].push({ from: prev.file, to: cur.file, gapMs })
    }
  }
  report.maxVideoGapMs = Math.max(0, ...report.video.map((j) => Math.abs(j.gapMs)))
  report.maxAudioGapMs = Math.max(0, ...report.audio.map((j) => Math.abs(j.gapMs)))
  return report
}
