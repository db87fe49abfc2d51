/** The node's API as the dashboard uses it: types, the token, the live event stream. */
import { useEffect, useState } from 'preact/hooks'

// The server's view types (node/src/http/views.ts, a leaf file with no imports): one definition for both sides.
import type { DashboardSnapshot, DashboardStreamView, JobState, JobView, NodeView, PeerView, WorkerStat } from '../../node/src/http/views.js'

export type { JobState, NodeView, PeerView, WorkerStat }
export type Job = JobView
export type StreamView = DashboardStreamView
export type Snapshot = DashboardSnapshot

export interface LatencyPoint { at: number, ms: number, worker: string | null }

export interface LiveState {
  connected: boolean
  snapshot?: Snapshot
  /** Newest first. */
  jobs: Job[]
  /** Segment latency (job created → done) of completed jobs, oldest first. */
  latency: LatencyPoint[]
  /** Last change per job id, for a short highlight. */
  flashes: Map<string, number>
}

const MAX_JOBS = 200
const MAX_POINTS = 150

// ---- the API token (sent as Authorization: Bearer on write calls) ----

const TOKEN_KEY = 'diststream.apiToken'

export function getToken (): string {
  try { return localStorage.getItem(TOKEN_KEY) ?? '' } catch { return '' } // storage blocked: no token
}

export function setToken (token: string): void {
  try {
    if (token === '') localStorage.removeItem(TOKEN_KEY)
    else localStorage.setItem(TOKEN_KEY, token)
  } catch { /* storage blocked (private mode): the token lasts this page only */ }
}

export class ApiError extends Error {
  constructor (readonly status: number, message: string) { super(message) }
}

/** A JSON call to the node; the token goes along whenever one is set. */
export async function api<T> (method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const token = getToken()
  if (token !== '') headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  let json: any
  try { json = text === '' ? undefined : JSON.parse(text) } catch { json = undefined }
  if (res.status === 401 || res.status === 403) {
    throw new ApiError(res.status, token === ''
      ? 'This node requires an API token: paste it under “API token” at the top right.'
      : 'The node refused the API token (HTTP ' + res.status + '). Check it under “API token” at the top right.')
  }
  if (!res.ok) throw new ApiError(res.status, json?.error ?? `HTTP ${res.status}`)
  return json as T
}

// ---- live state from /api/events ----

let state: LiveState = { connected: false, jobs: [], latency: [], flashes: new Map() }
const listeners = new Set<() => void>()
let source: EventSource | undefined
let scheduled = false

function publish (): void {
  // Coalesce bursts of job events into one render per frame.
  if (scheduled) return
  scheduled = true
  requestAnimationFrame(() => {
    scheduled = false
    for (const l of listeners) l()
  })
}

function upsertJob (job: Job, kind?: string): void {
  const jobs = state.jobs.filter(j => j.jobId !== job.jobId)
  if (kind !== 'evicted') {
    jobs.push(job)
    jobs.sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq)
  }
  if (jobs.length > MAX_JOBS) jobs.length = MAX_JOBS
  const flashes = new Map(state.flashes)
  flashes.set(job.jobId, Date.now())
  let latency = state.latency
  if (job.state === 'done' && job.durationMs != null && job.finishedAt != null && !latency.some(p => p.at === job.finishedAt && p.worker === job.worker)) {
    latency = [...latency, { at: job.finishedAt, ms: job.durationMs, worker: job.worker }].sort((a, b) => a.at - b.at).slice(-MAX_POINTS)
  }
  state = { ...state, jobs, latency, flashes }
}

function connect (): void {
  if (source != null) return
  source = new EventSource('/api/events')
  source.addEventListener('open', () => { state = { ...state, connected: true }; publish() })
  source.addEventListener('error', () => { state = { ...state, connected: false }; publish() })
  source.addEventListener('snapshot', (e) => {
    const snap = JSON.parse((e as MessageEvent).data) as Snapshot
    state = { ...state, connected: true, snapshot: snap }
    if (snap.jobs != null) {
      // The first snapshot of a connection carries the recent jobs.
      const jobs = [...snap.jobs].sort((a, b) => b.createdAt - a.createdAt)
      const latency = jobs.filter(j => j.state === 'done' && j.durationMs != null && j.finishedAt != null)
        .map(j => ({ at: j.finishedAt!, ms: j.durationMs!, worker: j.worker }))
        .sort((a, b) => a.at - b.at).slice(-MAX_POINTS)
      state = { ...state, jobs, latency }
    }
    publish()
  })
  source.addEventListener('job', (e) => {
    const { kind, job } = JSON.parse((e as MessageEvent).data) as { kind: string, job: Job }
    upsertJob(job, kind)
    publish()
  })
}

/** The live state; connects to `/api/events` on first use. */
export function useLive (): LiveState {
  const [, setTick] = useState(0)
  useEffect(() => {
    connect()
    const l = (): void => { setTick(t => t + 1) }
    listeners.add(l)
    return () => { listeners.delete(l) }
  }, [])
  return state
}

/** A worker's reputation at this ingest, where the node keeps one (`GET /api/workers`). */
export interface Reputation { peerId: string, score: number, suspended: boolean }

/**
 * Reputation from `/api/workers`, refreshed every 10 s while shown; empty
 * where the node has no such endpoint (no ingest, or an older node).
 */
export function useReputation (enabled: boolean): Map<string, Reputation> {
  const [rep, setRep] = useState<Map<string, Reputation>>(new Map())
  useEffect(() => {
    if (!enabled) return
    let stopped = false
    const load = async (): Promise<void> => {
      try {
        const res = await fetch('/api/workers', { headers: { accept: 'application/json' } })
        if (!res.ok) return
        const list = await res.json() as unknown
        if (!Array.isArray(list) || stopped) return
        setRep(new Map(list.filter(r => typeof r?.peerId === 'string' && typeof r?.score === 'number').map(r => [r.peerId, { peerId: r.peerId, score: r.score, suspended: r.suspended === true }])))
      } catch { /* node unreachable for now: keep the last figures, the next poll tries again */ }
    }
    void load()
    const t = setInterval(() => { void load() }, 10_000)
    return () => { stopped = true; clearInterval(t) }
  }, [enabled])
  return rep
}

/** Asks for a fresh snapshot now (after an action), instead of waiting for the next push. */
export async function refreshSnapshot (): Promise<void> {
  const snap = await api<Snapshot>('GET', '/api/dashboard')
  state = { ...state, snapshot: snap }
  publish()
}

// ---- formatting ----

export const shortId = (id: string | null | undefined): string => id == null || id === '' ? '—' : `…${id.slice(-8)}`

export function formatBytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}

export function formatDuration (sec: number): string {
  const d = Math.floor(sec / 86400)
  const h = Math.floor(sec % 86400 / 3600)
  const m = Math.floor(sec % 3600 / 60)
  const s = Math.floor(sec % 60)
  if (d > 0) return `${d}d ${h}h`
  if (h > 0) return `${h}h ${m}m`
  if (m > 0) return `${m}m ${s}s`
  return `${s}s`
}

export const formatMs = (ms: number | null | undefined): string => ms == null ? '—' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`

/** A stable hue per peer id, so a worker has one colour everywhere. */
export function peerHue (id: string): number {
  let h = 0
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0
  return h % 360
}
