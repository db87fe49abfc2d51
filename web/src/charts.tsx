/** Hand-drawn SVG charts: segment latency over time, jobs per worker, the peer graph. */
import { formatMs, peerHue, shortId } from './api.js'
import type { LatencyPoint, NodeView, PeerView, Reputation, WorkerStat } from './api.js'
import type { JSX } from 'preact'

const W = 820
const H = 220
const PAD = { l: 48, r: 12, t: 12, b: 28 }

function niceMax (v: number): number {
  if (v <= 0) return 1000
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

export function LatencyChart ({ points }: { points: LatencyPoint[] }): JSX.Element {
  if (points.length === 0) {
    return <div class='chart-empty'>No segment finished yet. Latency appears as jobs complete.</div>
  }
  // Right-anchored: the newest segment at the right edge, at least a minute shown.
  const t1 = points[points.length - 1]!.at
  const t0 = Math.min(points[0]!.at, t1 - 60_000)
  const max = niceMax(Math.max(...points.map(p => p.ms)) * 1.1)
  const x = (t: number): number => PAD.l + (t - t0) / (t1 - t0) * (W - PAD.l - PAD.r)
  const y = (ms: number): number => H - PAD.b - ms / max * (H - PAD.t - PAD.b)
  const line = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.at).toFixed(1)},${y(p.ms).toFixed(1)}`).join(' ')
  const area = `${line} L${x(points[points.length - 1]!.at).toFixed(1)},${y(0)} L${x(points[0]!.at).toFixed(1)},${y(0)} Z`
  const sorted = points.map(p => p.ms).sort((a, b) => a - b)
  const p50 = sorted[Math.floor(sorted.length * 0.5)]!
  const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(f => f * max)
  const spanSec = Math.round((t1 - t0) / 1000)
  return (
    <figure class='chart'>
      <svg viewBox={`0 0 ${W} ${H}`} role='img' aria-label={`Segment latency of the last ${points.length} segments: median ${formatMs(p50)}, 95th percentile ${formatMs(p95)}`}>
        <defs>
          <linearGradient id='lat-fill' x1='0' x2='0' y1='0' y2='1'>
            <stop offset='0%' stop-color='var(--accent)' stop-opacity='0.35' />
            <stop offset='100%' stop-color='var(--accent)' stop-opacity='0' />
          </linearGradient>
        </defs>
        {ticks.map(v => (
          <g key={v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} class='grid' />
            <text x={PAD.l - 6} y={y(v) + 4} text-anchor='end' class='axis'>{formatMs(v)}</text>
          </g>
        ))}
        <line x1={PAD.l} x2={W - PAD.r} y1={y(p95)} y2={y(p95)} class='p95' />
        <text x={W - PAD.r} y={y(p95) - 4} text-anchor='end' class='axis p95-label'>p95 {formatMs(p95)}</text>
        <path d={area} fill='url(#lat-fill)' />
        <path d={line} class='line' />
        {points.map(p => <circle key={`${p.at}-${p.worker ?? ''}`} cx={x(p.at)} cy={y(p.ms)} r='2.5' class='dot' style={{ fill: p.worker != null ? `hsl(${peerHue(p.worker)} 70% 65%)` : undefined }}><title>{`${new Date(p.at).toLocaleTimeString()}: ${formatMs(p.ms)}${p.worker != null ? ` on ${shortId(p.worker)}` : ''}`}</title></circle>)}
        <text x={PAD.l} y={H - 8} class='axis'>−{spanSec}s</text>
        <text x={W - PAD.r} y={H - 8} text-anchor='end' class='axis'>latest</text>
      </svg>
      <figcaption><span>median <strong>{formatMs(p50)}</strong></span><span>p95 <strong>{formatMs(p95)}</strong></span><span>{points.length} segments</span></figcaption>
    </figure>
  )
}

export function WorkerBars ({ workers, self, reputation = new Map() }: { workers: WorkerStat[], self?: string, reputation?: Map<string, Reputation> }): JSX.Element {
  const rows = workers.filter(w => w.attempts > 0 || w.bids > 0).slice(0, 8)
  if (rows.length === 0) return <div class='chart-empty'>No worker has taken a job from this ingest yet.</div>
  const max = Math.max(1, ...rows.map(w => w.done + w.failed))
  const rowH = 30
  const h = rows.length * rowH + 8
  const labelW = 150
  const barW = W - labelW - 260
  return (
    <figure class='chart'>
      <svg viewBox={`0 0 ${W} ${h}`} role='img' aria-label={`Jobs per worker: ${rows.map(w => `${shortId(w.peerId)} ${w.done} done, ${w.failed} failed${reputation.has(w.peerId) ? `, reputation ${reputation.get(w.peerId)!.score.toFixed(2)}` : ''}`).join('; ')}`}>
        {rows.map((w, i) => {
          const y = i * rowH + 6
          const dw = w.done / max * barW
          const fw = w.failed / max * barW
          return (
            <g key={w.peerId}>
              <circle cx='8' cy={y + 10} r='5' style={{ fill: `hsl(${peerHue(w.peerId)} 70% 60%)` }} />
              <text x='20' y={y + 14} class='label mono'>{shortId(w.peerId)}{w.peerId === self ? ' (this)' : ''}</text>
              <rect x={labelW} y={y} width={barW} height='20' rx='4' class='track' />
              <rect x={labelW} y={y} width={Math.max(dw, w.done > 0 ? 3 : 0)} height='20' rx='4' class='bar-done' />
              {w.failed > 0 && <rect x={labelW + dw} y={y} width={Math.max(fw, 3)} height='20' rx='4' class='bar-failed' />}
              <text x={labelW + barW + 10} y={y + 14} class='label'><tspan class='strong'>{w.done}</tspan> done{w.failed > 0 ? ` · ${w.failed} failed` : ''}{w.meanTranscodeMs != null ? ` · ${formatMs(w.meanTranscodeMs)}` : ''}{w.successRate != null ? ` · ${Math.round(w.successRate * 100)}% ok` : ''}{reputation.has(w.peerId) ? ` · rep ${reputation.get(w.peerId)!.score.toFixed(2)}` : ''}{reputation.get(w.peerId)?.suspended === true ? ' · suspended' : ''}</text>
            </g>
          )
        })}
      </svg>
      <figcaption><span><i class='key key-done' /> done</span><span><i class='key key-failed' /> failed attempts</span><span>mean transcode time · share of attempts that succeeded{reputation.size > 0 ? ' · reputation score (0–1)' : ''}</span></figcaption>
    </figure>
  )
}

const ROLE_COLORS: Record<string, string> = { ingest: 'var(--c-ingest)', worker: 'var(--c-worker)', edge: 'var(--c-edge)', bootstrap: 'var(--c-bootstrap)' }
export const roleColor = (roles: string[]): string => ROLE_COLORS[roles.find(r => r in ROLE_COLORS) ?? ''] ?? 'var(--muted)'

/** This node in the middle, the peers it knows around it; solid lines are live connections. */
export function PeerGraph ({ self, peers }: { self: NodeView, peers: PeerView[] }): JSX.Element {
  // Smaller for a few peers, so the panel is not mostly empty.
  const size = peers.length <= 3 ? 220 : 300
  const c = size / 2
  const r = size * 0.37
  const shown = peers.slice(0, 24)
  return (
    <svg class='peer-graph' width={size} height={size} viewBox={`0 0 ${size} ${size}`} role='img' aria-label={`This node and ${peers.length} known peers, ${peers.filter(p => p.connected).length} connected`}>
      {shown.map((p, i) => {
        const a = (i / Math.max(1, shown.length)) * Math.PI * 2 - Math.PI / 2
        return <line key={`l${p.peerId}`} x1={c} y1={c} x2={c + r * Math.cos(a)} y2={c + r * Math.sin(a)} class={p.connected ? 'link' : 'link link-off'} />
      })}
      {shown.map((p, i) => {
        const a = (i / Math.max(1, shown.length)) * Math.PI * 2 - Math.PI / 2
        const x = c + r * Math.cos(a)
        const y = c + r * Math.sin(a)
        return (
          <g key={p.peerId}>
            <circle cx={x} cy={y} r='13' style={{ fill: roleColor(p.roles) }} class={p.connected ? 'node' : 'node node-off'}><title>{`${p.peerId}\n${p.roles.join(', ') || 'roles unknown'}${p.rttMs != null ? `\n${p.rttMs} ms` : ''}`}</title></circle>
            <text x={x} y={y + 27} text-anchor='middle' class='graph-label'>{p.roles[0] ?? '?'}</text>
          </g>
        )
      })}
      <circle cx={c} cy={c} r='22' class='node-self' style={{ fill: roleColor(self.roles) }} />
      <text x={c} y={c + 4} text-anchor='middle' class='graph-self'>you</text>
    </svg>
  )
}
