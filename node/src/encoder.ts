import { describeHwDetection, detectHwEncoder, ffmpegVersion, resolveFfmpeg, Transcoder } from '@diststream/media'
import { defaultMaxJobs } from './config.js'
import type { NodeConfig } from './config.js'
import type { FfmpegPaths } from '@diststream/media'
import type { Logger } from 'pino'

/** The worker's encoder and how many jobs it takes at once. */
export interface WorkerEncoder {
  transcoder: Transcoder
  maxJobs: number
  /** Capacity if the GPU fails later and the worker moves to the CPU (unset: keep maxJobs). */
  cpuMaxJobs?: number
  /** The detection's one-line result (with --gpu). */
  detection?: string
}

/**
 * With `--gpu`, detect a hardware encoder that passes a one-frame test encode and log which one
 * (or that there is none: then the CPU, in one warning line). A worker with a working GPU takes
 * more jobs at once unless `--max-jobs` says otherwise. The transcoder falls back to the CPU by
 * itself if the GPU fails later.
 */
export async function setUpEncoder (config: NodeConfig, ffmpegPath: string, logger: Logger): Promise<WorkerEncoder> {
  const log = logger.child({ component: 'encoder' })
  let hw = null
  let line: string | undefined
  if (config.gpu) {
    const detection = await detectHwEncoder(ffmpegPath)
    hw = detection.selected
    line = describeHwDetection(detection)
    const tried = detection.tried.filter(t => t.listed).map(t => ({ encoder: t.encoder, ok: t.ok, error: t.error }))
    if (hw != null) log.info({ encoder: hw.encoder, hwKind: hw.kind, hwDecode: hw.hwDecode, tried }, `--gpu: ${line}`)
    else log.warn({ tried }, `--gpu: ${line}`)
  }
  const maxJobs = config.maxJobsSet ? config.maxJobs : defaultMaxJobs(hw != null)
  const cpuMaxJobs = config.maxJobsSet ? undefined : defaultMaxJobs(false)
  return { transcoder: new Transcoder({ ffmpegPath, hw, logger: log }), maxJobs, cpuMaxJobs, detection: line }
}

/** The node's ffmpeg (ingest and worker roles) and the worker's encoder. */
export interface NodeMedia {
  ffmpeg?: FfmpegPaths
  /** `ffmpeg -version`'s answer ('' without ffmpeg). */
  version: string
  encoder?: WorkerEncoder
}

/** Finds ffmpeg for the roles that run it and sets up the worker's encoder (`--gpu`: a test encode). */
export async function setUpMedia (config: NodeConfig, logger: Logger): Promise<NodeMedia> {
  const has = (role: 'ingest' | 'worker'): boolean => config.roles.includes(role)
  if (config.gpu && !has('worker')) logger.warn('--gpu only matters for the worker role; ignored')
  if (!has('ingest') && !has('worker')) return { version: '' }
  const ffmpeg = resolveFfmpeg()
  const version = await ffmpegVersion(ffmpeg.ffmpeg)
  logger.info({ ffmpeg: ffmpeg.ffmpeg, ffprobe: ffmpeg.ffprobe, source: ffmpeg.source, version }, 'ffmpeg')
  // --gpu: a hardware encoder that passes a test encode, or the CPU with one clear log line.
  const encoder = has('worker') ? await setUpEncoder(config, ffmpeg.ffmpeg, logger) : undefined
  return { ffmpeg, version, encoder }
}
