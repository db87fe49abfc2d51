/** The dashboard's panels: this node, the network, the job market, streams. */
import { useState } from 'preact/hooks'
import { api, ApiError, formatBytes, formatDuration, formatMs, peerHue, refreshSnapshot, shortId } from './api.js'
import { PeerGraph, roleColor } from './charts.js'
import { Link, navigate } from './router.js'
import { Thumb } from './thumb.js'
import type { Job, NodeView, PeerView, Snapshot, StreamView } from './api.js'
import type { ComponentChildren, JSX } from 'preact'

export function Panel ({ title, id, actions, children, wide }: { title: string, id: string, actions?: ComponentChildren, children: ComponentChildren, wide?: boolean }): JSX.Element {
  return (
    <section class={wide === true ? 'panel wide' : 'panel'} aria-labelledby={`${id}-title`} id={id}>
      <header class='panel-head'>
        <h2 id={`${id}-title`}>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  )
}

export function CopyButton ({ text, label }: { text: string, label: string }): JSX.Element {
  const [done, setDone] = useState(false)
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text)
    } catch {
      // Without clipboard permission (http, old browsers): select-and-copy fallback.
      const t = document.createElement('textarea')
      t.value = text
      document.body.appendChild(t)
      t.select()
      document.execCommand('copy')
      t.remove()
    }
    setDone(true)
    setTimeout(() => { setDone(false) }, 1500)
  }
  return <button type='button' class='btn btn-small' onClick={() => { void copy() }} aria-label={`Copy ${label}`}>{done ? 'Copied ✓' : 'Copy'}</button>
}

export function RoleChips ({ roles }: { roles: string[] }): JSX.Element {
  if (roles.length === 0) return <span class='muted'>unknown</span>
  return <span class='chips'>{roles.map(r => <span key={r} class='chip' style={{ '--chip': roleColor([r]) }}>{r}</span>)}</span>
}

function Meter ({ value, max, label }: { value: number, max: number, label: string }): JSX.Element {
  const pct = Math.max(0, Math.min(100, max > 0 ? value / max * 100 : 0))
  return <div class='meter' role='meter' aria-label={label} aria-valuemin={0} aria-valuemax={max} aria-valuenow={value}><div style={{ width: `${pct}%` }} class={pct > 85 ? 'hot' : ''} /></div>
}

export function NodeCard ({ node }: { node: NodeView }): JSX.Element {
  const cpuMax = 100 * node.cpu.cores
  return (
    <Panel title='This node' id='node'>
      <dl class='facts'>
        <dt>Peer id</dt>
        <dd class='row'><code class='mono ellipsis' title={node.peerId} data-testid='self-peer-id'>{node.peerId}</code><CopyButton text={node.peerId} label='peer id' /></dd>
        <dt>Roles</dt><dd><RoleChips roles={node.roles} /></dd>
        <dt>Uptime</dt><dd>{formatDuration(node.uptimeSec)} <span class='muted'>· v{node.version}</span></dd>
        <dt>CPU</dt>
        <dd><div class='row'><span class='num'>{node.cpu.processPercent.toFixed(0)}%</span><span class='muted'>of {node.cpu.cores} cores · load {node.cpu.load1}</span></div><Meter value={node.cpu.processPercent} max={cpuMax} label='Process CPU' /></dd>
        <dt>Memory</dt>
        <dd><div class='row'><span class='num'>{formatBytes(node.memory.rssBytes)}</span><span class='muted'>RSS of {formatBytes(node.memory.totalBytes)}</span></div><Meter value={node.memory.rssBytes} max={node.memory.totalBytes} label='Resident memory' /></dd>
        <dt>Transcoder</dt>
        <dd>{node.ffmpeg != null
          ? <><span>{node.ffmpeg.encoder}</span><div class='muted small ellipsis' title={node.ffmpeg.path}>{node.ffmpeg.version !== '' ? node.ffmpeg.version : 'ffmpeg'} · {node.ffmpeg.source}</div></>
          : <span class='muted'>none (no ingest or worker role)</span>}
        </dd>
        {node.worker != null && <><dt>Worker load</dt><dd><span class='num'>{node.worker.activeJobs}</span> / {node.worker.maxJobs} jobs</dd></>}
        {node.rtmpPort != null && <><dt>RTMP</dt><dd><code class='mono'>rtmp://{location.hostname}:{node.rtmpPort}/live</code></dd></>}
        <dt>Addresses</dt>
        <dd><details><summary>{node.multiaddrs.length} listen address{node.multiaddrs.length === 1 ? '' : 'es'}</summary><ul class='addr-list'>{node.multiaddrs.map(m => <li key={m}><code class='mono small'>{m}</code></li>)}</ul></details></dd>
      </dl>
    </Panel>
  )
}

export function Stats ({ snap, jobs }: { snap: Snapshot, jobs: Job[] }): JSX.Element {
  const connected = snap.peers.filter(p => p.connected).length
  const live = snap.streams.filter(s => s.state === 'live').length
  const done = jobs.filter(j => j.state === 'done').length
  const active = jobs.filter(j => j.state === 'announced' || j.state === 'bidding' || j.state === 'assigned').length
  const workers = snap.peers.filter(p => p.roles.includes('worker')).length + (snap.node.roles.includes('worker') ? 1 : 0)
  const tiles: Array<[string, string | number, string]> = [
    ['Peers connected', connected, `${snap.peers.length} known`],
    ['Workers', workers, 'in the market'],
    ['Live streams', live, `${snap.streams.length} total`],
    ['Jobs in flight', active, `${done} done recently`]
  ]
  return (
    <div class='tiles' role='list'>
      {tiles.map(([label, value, sub]) => (
        <div class='tile' role='listitem' key={label}>
          <div class='tile-label'>{label}</div>
          <div class='tile-value'>{value}</div>
          <div class='tile-sub'>{sub}</div>
        </div>
      ))}
    </div>
  )
}

export function PeersPanel ({ snap }: { snap: Snapshot }): JSX.Element {
  const peers = [...snap.peers].sort((a, b) => Number(b.connected) - Number(a.connected) || (a.roles[0] ?? '~').localeCompare(b.roles[0] ?? '~'))
  return (
    <Panel title='Network' id='network' wide>
      <div class={peers.length > 0 ? 'network' : ''}>
        {peers.length > 0 && <PeerGraph self={snap.node} peers={peers} />}
        <div class='table-wrap'>
          <table class='table' data-testid='peer-table'>
            <caption class='sr-only'>Peers this node knows</caption>
            <thead><tr><th scope='col'>Peer</th><th scope='col'>Roles</th><th scope='col'>Link</th><th scope='col'>Latency</th><th scope='col'>Jobs</th><th scope='col'>Agent</th></tr></thead>
            <tbody>
              {peers.length === 0 && <tr><td colSpan={6} class='muted'>No peers yet. Start another node with <code>--bootstrap</code> pointing here.</td></tr>}
              {peers.map((p: PeerView) => (
                <tr key={p.peerId} data-peer={p.peerId}>
                  <td><code class='mono' title={p.peerId}>{shortId(p.peerId)}</code></td>
                  <td><RoleChips roles={p.roles} /></td>
                  <td>{p.connected ? <span class='status ok'>connected</span> : <span class='status off'>known</span>}</td>
                  <td class='num'>{p.rttMs != null ? `${p.rttMs} ms` : '—'}</td>
                  <td class='num'>{p.maxJobs > 0 ? `${p.activeJobs} / ${p.maxJobs}` : '—'}</td>
                  <td class='muted small'>{p.agent !== '' ? p.agent : '—'}{p.hwKind !== '' ? ` · ${p.hwKind}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </Panel>
  )
}

const STEPS: Array<{ key: string, label: string }> = [
  { key: 'announced', label: 'Announced' },
  { key: 'bidding', label: 'Bids' },
  { key: 'assigned', label: 'Transcoding' },
  { key: 'done', label: 'Done' }
]
const stepIndex = (s: Job['state']): number => s === 'announced' ? 0 : s === 'bidding' ? 1 : s === 'assigned' ? 2 : 3

function JobRow ({ job, flash }: { job: Job, flash: boolean }): JSX.Element {
  const at = stepIndex(job.state)
  const terminal = job.state === 'done' || job.state === 'failed' || job.state === 'passthrough'
  const endLabel = job.state === 'failed' ? 'Failed' : job.state === 'passthrough' ? 'Source only' : 'Done'
  // A cancelled attempt lost a hedge race (another worker finished first): not a failure.
  const retries = job.history.filter(h => h.outcome != null && h.outcome !== 'ok' && h.outcome !== 'cancelled')
  const hedged = job.history.some(h => h.outcome === 'cancelled')
  return (
    <li class={`job ${flash ? 'flash' : ''}`} data-job={job.jobId} data-state={job.state}>
      <div class='job-id'>
        <span class='mono'>#{job.seq}</span>
        <span class='muted small mono' title={job.streamId}>{job.streamId.slice(0, 8)}</span>
      </div>
      <ol class='steps' aria-label={`Job ${job.seq}: ${job.state}`}>
        {STEPS.map((s, i) => {
          const cls = i < at || (terminal && i === 3) ? 'step past' : i === at ? 'step now' : 'step'
          const fail = i === 3 && (job.state === 'failed' || job.state === 'passthrough')
          return <li key={s.key} class={`${cls}${fail ? ' fail' : ''}`} aria-current={i === at ? 'step' : undefined}>{i === 3 ? endLabel : s.label}</li>
        })}
      </ol>
      <div class='bidders' aria-label='Bids'>
        {job.bidders.length === 0 && <span class='muted small'>{job.state === 'announced' ? 'waiting for bids…' : `${job.bids} bid${job.bids === 1 ? '' : 's'}`}</span>}
        {job.bidders.map(b => (
          <span key={`${b.peerId}${b.at}`} class={`bid ${b.peerId === job.worker ? 'won' : ''}`} style={{ '--hue': peerHue(b.peerId) }} title={`${b.peerId} bid ${b.estimateMs} ms`}>
            {b.peerId === job.worker && <span aria-label='chosen'>★ </span>}{shortId(b.peerId)} <span class='muted'>{formatMs(b.estimateMs)}</span>
          </span>
        ))}
        {hedged && <span class='retry hedge' title='Sent to more than one worker; the first good result won'>⇉ hedged</span>}
        {retries.length > 0 && <span class='retry' title={retries.map(r => `${shortId(r.worker)}: ${r.outcome} ${r.reason ?? ''}`).join('\n')}>↻ {retries.length} reassigned</span>}
      </div>
      <div class='job-time num'>{terminal ? formatMs(job.durationMs) : <span class='pulse'>live</span>}</div>
    </li>
  )
}

export function JobMarket ({ jobs, flashes, limit = 10, isIngest, title = 'Job market', all = true }: { jobs: Job[], flashes: Map<string, number>, limit?: number, isIngest: boolean, title?: string, all?: boolean }): JSX.Element {
  const now = Date.now()
  return (
    <Panel title={title} id='jobs' wide actions={all ? <Link href='/jobs' class='btn btn-ghost btn-small'>All jobs</Link> : undefined}>
      {!isIngest && <p class='muted'>This node has no ingest role: the market for a segment runs at its stream's ingest. Open an ingest's dashboard to watch it.</p>}
      {isIngest && jobs.length === 0 && <p class='muted'>No jobs yet. Publish a stream over RTMP and each segment appears here as it is announced, bid on, transcoded and done.</p>}
      <ul class='jobs' data-testid='job-list'>
        {jobs.slice(0, limit).map(j => <JobRow key={j.jobId} job={j} flash={now - (flashes.get(j.jobId) ?? 0) < 800} />)}
      </ul>
    </Panel>
  )
}

interface Created { id: string, name: string, key: string, rtmpUrl: string, playbackUrl: string }

/** On an edge without an ingest: open any stream of the network by id, and see what is watched here. */
function EdgeStreams ({ watched }: { watched: Array<{ id: string, viewers: number, networkViewers: number }> }): JSX.Element {
  const [id, setId] = useState('')
  const valid = /^[a-z0-9]{1,64}$/.test(id.trim())
  return (
    <>
      <form class='create' onSubmit={e => { e.preventDefault(); if (valid) navigate(`/streams/${id.trim()}`) }}>
        <label for='watch-id'>Watch a stream</label>
        <input id='watch-id' value={id} placeholder='stream id' autoComplete='off' aria-describedby='watch-help' onInput={e => { setId((e.target as HTMLInputElement).value) }} />
        <button type='submit' class='btn btn-primary' disabled={!valid}>Open player</button>
      </form>
      <p id='watch-help' class='muted small'>This edge finds any stream of the network by its id and serves it at <code>/live/&lt;id&gt;/index.m3u8</code>.</p>
      {watched.length > 0 && (
        <table class='table'>
          <caption class='sr-only'>Streams watched through this edge</caption>
          <thead><tr><th scope='col'>Stream</th><th scope='col'>Viewers here</th><th scope='col'>Viewers (network)</th><th scope='col'><span class='sr-only'>Actions</span></th></tr></thead>
          <tbody>{watched.map(s => <tr key={s.id}><td class='mono'><Thumb id={s.id} live enabled />{s.id}</td><td class='num'>{s.viewers}</td><td class='num' data-testid='network-viewers'>{s.networkViewers}</td><td class='actions'><Link href={`/streams/${s.id}`} class='btn btn-small' aria-label={`Watch ${s.id}`}>Watch</Link></td></tr>)}</tbody>
        </table>
      )}
    </>
  )
}

/**
 * A stream's renditions; while a live stream sheds rungs (the workers cannot
 * keep up), the shed ones are struck through and marked, so the table says
 * which rungs are live.
 */
function Renditions ({ s }: { s: StreamView }): JSX.Element {
  const shed = new Set((s.rungs ?? []).filter(r => !r.live).map(r => r.name))
  const names = new Set(s.renditions.map(r => r.name))
  const extra = [...shed].filter(n => !names.has(n))
  if (s.renditions.length === 0 && extra.length === 0) return <span class='muted'>—</span>
  const shedChip = (n: string): JSX.Element => <span key={n} class='chip chip-shed' data-shed='true' title={`${n} is shed: the workers cannot keep up, so this rung is not transcoded until capacity returns`}>{n} shed</span>
  return (
    <span class='chips' data-testid='renditions'>
      {s.renditions.map(r => shed.has(r.name)
        ? shedChip(r.name)
        : <span key={r.name} class='chip chip-plain' title={`${r.width}×${r.height}, ${Math.round(r.bandwidth / 1000)} kbit/s`}>{r.name}</span>)}
      {extra.map(shedChip)}
    </span>
  )
}

export function StreamsPanel ({ streams, isIngest, isEdge, edgeStreams = [] }: { streams: StreamView[], isIngest: boolean, isEdge: boolean, edgeStreams?: Array<{ id: string, viewers: number, networkViewers: number }> }): JSX.Element {
  const [name, setName] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const [created, setCreated] = useState<Created | undefined>()
  const create = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const s = await api<Created>('POST', '/api/streams', { name: name.trim() === '' ? 'untitled' : name.trim() })
      setCreated(s)
      setName('')
      await refreshSnapshot().catch(() => { /* the next pushed snapshot shows it anyway */ })
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }
  const [stopping, setStopping] = useState<Set<string>>(new Set())
  const stop = async (s: StreamView): Promise<void> => {
    setError(undefined)
    setStopping(prev => new Set(prev).add(s.id))
    try {
      await api('DELETE', `/api/streams/${s.id}`)
      if (created?.id === s.id) setCreated(undefined)
      await refreshSnapshot().catch(() => { /* the next pushed snapshot shows it anyway */ })
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err))
    } finally {
      setStopping(prev => { const next = new Set(prev); next.delete(s.id); return next })
    }
  }
  const server = created != null ? created.rtmpUrl.slice(0, created.rtmpUrl.length - created.key.length - 1) : ''
  return (
    <Panel title='Streams' id='streams' wide>
      {isIngest && (
        <form class='create' onSubmit={e => { void create(e) }}>
          <label for='stream-name'>New stream</label>
          <input id='stream-name' name='name' value={name} maxLength={200} placeholder='e.g. Friday night show' autoComplete='off' onInput={e => { setName((e.target as HTMLInputElement).value) }} />
          <button type='submit' class='btn btn-primary' disabled={busy}>{busy ? 'Creating…' : 'Create stream'}</button>
        </form>
      )}
      {error != null && <p class='alert' role='alert' data-testid='stream-error'>{error}</p>}
      {created != null && (
        <div class='created' role='status' data-testid='created-stream'>
          <div class='created-head'><strong>“{created.name}” is ready.</strong> Point OBS (Settings → Stream → Custom) at it. The key is shown only now.</div>
          <dl class='kv'>
            <dt>Server</dt><dd><code class='mono' data-testid='rtmp-server'>{server}</code><CopyButton text={server} label='RTMP server URL' /></dd>
            <dt>Stream key</dt><dd><code class='mono' data-testid='stream-key'>{created.key}</code><CopyButton text={created.key} label='stream key' /></dd>
            <dt>Full URL</dt><dd><code class='mono ellipsis' data-testid='rtmp-url'>{created.rtmpUrl}</code><CopyButton text={created.rtmpUrl} label='full RTMP URL' /></dd>
          </dl>
          <button type='button' class='btn btn-ghost btn-small' onClick={() => { setCreated(undefined) }}>Dismiss</button>
        </div>
      )}
      {!isIngest && !isEdge && <p class='muted'>This node has neither an ingest nor an edge role, so it hosts and serves no streams.</p>}
      {!isIngest && isEdge && <EdgeStreams watched={edgeStreams} />}
      {isIngest && (
        <div class='table-wrap'>
          <table class='table' data-testid='stream-table'>
            <caption class='sr-only'>Streams on this ingest</caption>
            <thead><tr><th scope='col'>Stream</th><th scope='col'>Status</th><th scope='col'>Renditions</th><th scope='col'>Segments</th><th scope='col'><abbr title='Viewers over the whole network: every edge’s latest count, summed'>Viewers</abbr></th><th scope='col'><span class='sr-only'>Actions</span></th></tr></thead>
            <tbody>
              {streams.length === 0 && <tr><td colSpan={6} class='muted'>No streams yet: create one above.</td></tr>}
              {streams.map(s => (
                <tr key={s.id} data-stream={s.id} data-state={s.state}>
                  <td class='stream-cell'><Thumb id={s.id} live={s.state === 'live'} enabled={isEdge} /><div><Link href={`/streams/${s.id}`} class='stream-link'>{s.name}</Link><div class='muted small mono'>{s.id}</div></div></td>
                  <td><span class={`status ${s.state === 'live' ? 'live' : s.state === 'ended' ? 'off' : 'idle'}`}>{s.state}</span></td>
                  <td><Renditions s={s} /></td>
                  <td class='num'>{s.lastSeq != null ? s.lastSeq + 1 : 0}</td>
                  <td class='num' data-testid='network-viewers' title={isEdge ? `${s.viewers} on this edge` : undefined}>{s.networkViewers}</td>
                  <td class='actions'>
                    <Link href={`/streams/${s.id}`} class='btn btn-small' aria-label={`Watch ${s.name}`}>Watch</Link>
                    {s.state !== 'ended' && (stopping.has(s.id)
                      ? <button type='button' class='btn btn-small btn-danger' disabled aria-label={`Stopping ${s.name}`}>Stopping…</button>
                      : <button type='button' class='btn btn-small btn-danger' onClick={() => { void stop(s) }} aria-label={`Stop ${s.name}`}>Stop</button>)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  )
}
