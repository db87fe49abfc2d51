import { describeHwDetection, detectHwEncoder, Transcoder } from '@diststream/media'
import { defaultMaxJobs } from './config.js'
import type { NodeConfig } from './config.js'
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
