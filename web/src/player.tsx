/**
 * A stream's player page: hls.js (loaded only here, as its own chunk) with
 * rendition switching, and the live latency from EXT-X-PROGRAM-DATE-TIME.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { formatMs, useLive } from './api.js'
import { Link } from './router.js'
import { JobMarket } from './panels.js'
import type { JSX } from 'preact'
import type HlsType from 'hls.js'

interface Level { index: number, label: string }

export function PlayerPage ({ id }: { id: string }): JSX.Element {
  const live = useLive()
  const video = useRef<HTMLVideoElement>(null)
  const hlsRef = useRef<HlsType | null>(null)
  const [levels, setLevels] = useState<Level[]>([])
  const [level, setLevel] = useState(-1)
  const [playing, setPlaying] = useState<string>('')
  const [latencyMs, setLatencyMs] = useState<number | null>(null)
  const [time, setTime] = useState(0)
  const [error, setError] = useState<string | undefined>()
  const src = `/live/${id}/index.m3u8`
  const stream = live.snapshot?.streams.find(s => s.id === id)

  useEffect(() => {
    const v = video.current
    if (v == null) return
    let cancelled = false
    let hls: HlsType | null = null
    const start = async (): Promise<void> => {
      const { default: Hls } = await import('hls.js/light') as { default: typeof HlsType }
      if (cancelled) return
      if (Hls.isSupported()) {
        hls = new Hls({ liveSyncDurationCount: 2, maxBufferLength: 10, backBufferLength: 10, manifestLoadingMaxRetry: 6, manifestLoadingRetryDelay: 1500 })
        hlsRef.current = hls
        hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
          setLevels(data.levels.map((l, index) => ({ index, label: l.height > 0 ? `${l.height}p` : (l.name ?? `level ${index}`) })))
          void v.play().catch(() => { /* autoplay refused: the controls let the viewer start it */ })
        })
        hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
          const l = hls?.levels[data.level]
          setPlaying(l != null ? `${l.width}×${l.height} · ${Math.round(l.bitrate / 1000)} kbit/s` : '')
        })
        hls.on(Hls.Events.ERROR, (_e, data) => {
          if (data.fatal) setError(`Playback error: ${data.details}. Retrying…`)
          if (data.fatal && data.type === Hls.ErrorTypes.NETWORK_ERROR) setTimeout(() => { hls?.startLoad() }, 2000)
          else if (data.fatal && data.type === Hls.ErrorTypes.MEDIA_ERROR) hls?.recoverMediaError()
        })
        hls.on(Hls.Events.FRAG_BUFFERED, () => { setError(undefined) })
        hls.loadSource(src)
        hls.attachMedia(v)
      } else if (v.canPlayType('application/vnd.apple.mpegurl') !== '') {
        // Safari: native HLS.
        v.src = src
        void v.play().catch(() => { /* autoplay refused: the controls let the viewer start it */ })
      } else {
        setError('This browser cannot play HLS (no Media Source Extensions).')
      }
    }
    void start().catch(err => { setError(`Could not load the player: ${String(err)}`) })
    const timer = setInterval(() => {
      setTime(v.currentTime)
      // Live latency: wall clock minus the program date-time of what is on screen.
      const h = hlsRef.current
      const date = h?.playingDate ?? (typeof (v as any).getStartDate === 'function' && !Number.isNaN((v as any).getStartDate().getTime()) ? new Date((v as any).getStartDate().getTime() + v.currentTime * 1000) : null)
      setLatencyMs(date != null && !v.paused ? Math.max(0, Date.now() - date.getTime()) : null)
    }, 500)
    return () => {
      cancelled = true
      clearInterval(timer)
      hls?.destroy()
      hlsRef.current = null
    }
  }, [src])

  const choose = (index: number): void => {
    setLevel(index)
    const h = hlsRef.current
    if (h != null) h.currentLevel = index
  }

  const latencyClass = latencyMs == null ? '' : latencyMs < 8000 ? 'good' : latencyMs < 15000 ? 'warn' : 'bad'
  return (
    <main id='main' class='player-page'>
      <nav class='crumbs' aria-label='Breadcrumb'><Link href='/'>Dashboard</Link> <span aria-hidden='true'>/</span> <span>{stream?.name ?? id}</span></nav>
      <div class='player-layout'>
        <div class='video-wrap'>
          <video ref={video} controls muted playsInline autoPlay aria-label={`Live video of ${stream?.name ?? id}`} data-testid='video' />
          {error != null && <div class='video-error' role='status'>{error}</div>}
        </div>
        <aside class='panel player-side' aria-label='Playback'>
          <h1 class='stream-title'>{stream?.name ?? 'Stream'} {stream != null && <span class={`status ${stream.state === 'live' ? 'live' : 'off'}`}>{stream.state}</span>}</h1>
          <dl class='facts'>
            <dt>Live latency</dt>
            <dd><span class={`big num ${latencyClass}`} data-testid='latency'>{latencyMs != null ? formatMs(latencyMs) : '—'}</span><div class='muted small'>now − EXT-X-PROGRAM-DATE-TIME of the frame on screen</div></dd>
            <dt>Position</dt><dd class='num' data-testid='current-time'>{time.toFixed(1)} s</dd>
            <dt><label for='rendition'>Rendition</label></dt>
            <dd>
              <select id='rendition' value={String(level)} onChange={e => { choose(Number((e.target as HTMLSelectElement).value)) }}>
                <option value='-1'>Auto (adaptive)</option>
                {levels.map(l => <option key={l.index} value={String(l.index)}>{l.label}</option>)}
              </select>
              {playing !== '' && <div class='muted small' data-testid='playing'>playing {playing}</div>}
            </dd>
            {stream != null && <><dt>Viewers</dt><dd class='num' data-testid='player-viewers'>{stream.networkViewers} <span class='muted small'>over the network, {stream.viewers} here</span></dd></>}
            <dt>Playback URL</dt><dd><code class='mono small ellipsis' title={location.origin + src}>{location.origin}{src}</code></dd>
          </dl>
        </aside>
      </div>
      {live.snapshot?.node.roles.includes('ingest') === true && (
        <div class='player-jobs'>
          <JobMarket title='Segments of this stream' all={false} limit={6} isIngest jobs={live.jobs.filter(j => j.streamId === id)} flashes={live.flashes} />
        </div>
      )}
    </main>
  )
}
