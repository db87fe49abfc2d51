/**
 * The viewer side of the app: the directory (`/watch`), a channel
 * (`/channel/:peer`), a stream with its player and chat (`/watch/:id`), and
 * the follow notices shown on every viewer page.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { Link } from '../router.js'
import { Thumb } from '../thumb.js'
import { ChatPanel } from './chat.js'
import { dismissNotice, useDirectory } from './directory.js'
import { exportFollows, importFollows, setFollowing, useFollows } from './follows.js'
import type { DirectoryStream } from './directory.js'
import type { JSX } from 'preact'
import type HlsType from 'hls.js'

const short = (id: string): string => id.length > 12 ? `…${id.slice(-8)}` : id

function FollowButton ({ channel }: { channel: string }): JSX.Element {
  const follows = useFollows()
  const on = follows.some(f => f.channel === channel)
  return (
    <button type='button' class={`btn btn-small ${on ? 'btn-ghost' : 'btn-primary'}`} aria-pressed={on} data-testid='follow' onClick={() => { setFollowing(channel, !on) }}>
      {on ? 'Following' : 'Follow'}
    </button>
  )
}

function Notices (): JSX.Element | null {
  const { notices } = useDirectory()
  const [perm, setPerm] = useState(typeof Notification === 'undefined' ? 'denied' : Notification.permission)
  return (
    <div class='notices' role='region' aria-label='Notices'>
      {notices.map(n => (
        <div key={n.key} class='notice' role='alert' data-testid='live-notice'>
          <strong>{n.stream.title !== '' ? n.stream.title : n.stream.id}</strong> is live on a channel you follow.{' '}
          <Link href={`/watch/${n.stream.id}`}>Watch</Link>{' '}
          <button type='button' class='btn btn-ghost btn-small' onClick={() => { dismissNotice(n.key) }} aria-label='Dismiss'>×</button>
        </div>
      ))}
      {perm === 'default' && (
        <button type='button' class='btn btn-ghost btn-small' onClick={() => { void Notification.requestPermission().then(setPerm) }}>Also notify me outside this page</button>
      )}
    </div>
  )
}

export function ViewerShell ({ children }: { children: JSX.Element }): JSX.Element {
  return (
    <>
      <header class='topbar'>
        <a class='skip' href='#main'>Skip to content</a>
        <Link href='/watch' class='brand' aria-label='DistStream: live streams'><span class='logo' aria-hidden='true'>◆</span> DistStream</Link>
        <nav aria-label='Sections' class='nav'><Link href='/watch'>Live</Link><Link href='/'>Operator dashboard</Link></nav>
      </header>
      <Notices />
      {children}
    </>
  )
}

function StreamCard ({ s }: { s: DirectoryStream }): JSX.Element {
  return (
    <li class='card' data-testid='directory-stream' data-stream={s.id}>
      {s.thumbnailUrl != null && <Thumb id={s.id} live={s.live} enabled />}
      <Link href={`/watch/${s.id}`}><strong>{s.title !== '' ? s.title : s.id}</strong></Link>
      <div class='muted small'>
        {s.live ? <span class='badge ok'>live</span> : <span class='badge'>{s.vod ? 'video' : 'ended'}</span>}{' '}
        channel <Link href={`/channel/${s.channel}`}><span class='mono'>{short(s.channel)}</span></Link>
        {s.viewers != null && <> · {s.viewers} watching</>}
      </div>
    </li>
  )
}

function FollowsTools (): JSX.Element {
  const follows = useFollows()
  const [msg, setMsg] = useState<string | undefined>()
  const download = (): void => {
    const a = document.createElement('a')
    a.href = URL.createObjectURL(new Blob([exportFollows()], { type: 'application/json' }))
    a.download = 'diststream-follows.json'
    a.click()
    URL.revokeObjectURL(a.href)
  }
  const upload = async (e: globalThis.Event): Promise<void> => {
    const file = (e.target as HTMLInputElement).files?.[0]
    if (file == null) return
    try {
      setMsg(`${importFollows(await file.text())} channels added.`)
    } catch (err) {
      setMsg((err as Error).message)
    }
  }
  return (
    <section class='panel' aria-labelledby='follows-title'>
      <div class='panel-head'><h2 id='follows-title'>Following</h2></div>
      {follows.length === 0
        ? <p class='muted'>No channels yet: follow one from its page.</p>
        : (
          <ul class='plain'>{follows.map(f => <li key={f.channel}><Link href={`/channel/${f.channel}`}><span class='mono'>{short(f.channel)}</span></Link></li>)}</ul>
          )}
      <div class='row'>
        <button type='button' class='btn btn-ghost btn-small' onClick={download}>Export</button>
        <label class='btn btn-ghost btn-small'>Import<input type='file' accept='application/json' class='sr-only' onChange={e => { void upload(e) }} /></label>
      </div>
      {msg != null && <p class='muted small' role='status'>{msg}</p>}
    </section>
  )
}

export function DirectoryPage (): JSX.Element {
  const { streams, connected } = useDirectory()
  const live = streams?.filter(s => s.live) ?? []
  return (
    <main id='main' class='grid'>
      <section class='panel' aria-labelledby='dir-title'>
        <div class='panel-head'><h2 id='dir-title'>Live now</h2><span class={`conn ${connected ? 'ok' : 'off'}`} role='status'><span class='dot' aria-hidden='true' />{connected ? 'Live' : 'Connecting…'}</span></div>
        {streams == null
          ? <p class='muted'>Loading the directory…</p>
          : live.length === 0
            ? <p class='muted'>Nothing is live on the network right now.</p>
            : (
              <ul class='cards'>{live.map(s => <StreamCard key={s.id} s={s} />)}</ul>
              )}
      </section>
      <FollowsTools />
    </main>
  )
}

export function ChannelPage ({ channel }: { channel: string }): JSX.Element {
  const { streams } = useDirectory()
  const mine = streams?.filter(s => s.channel === channel) ?? []
  return (
    <main id='main' class='grid'>
      <section class='panel' aria-labelledby='ch-title'>
        <div class='panel-head'><h2 id='ch-title'>Channel <span class='mono' title={channel}>{short(channel)}</span></h2><FollowButton channel={channel} /></div>
        {mine.length === 0 ? <p class='muted'>No streams from this channel that this edge knows of.</p> : <ul class='cards'>{mine.map(s => <StreamCard key={s.id} s={s} />)}</ul>}
      </section>
    </main>
  )
}

function Video ({ src }: { src: string }): JSX.Element {
  const video = useRef<HTMLVideoElement>(null)
  const [error, setError] = useState<string | undefined>()
  useEffect(() => {
    const v = video.current
    if (v == null) return
    let hls: HlsType | undefined
    let cancelled = false
    void import('hls.js/light').then(({ default: Hls }) => {
      if (cancelled) return
      if (!Hls.isSupported()) { v.src = src; return }
      const h = new Hls({ liveSyncDurationCount: 2, maxBufferLength: 10, manifestLoadingMaxRetry: 6, manifestLoadingRetryDelay: 1500 })
      hls = h
      h.on(Hls.Events.MANIFEST_PARSED, () => { void v.play().catch(() => { /* autoplay refused: the controls start it */ }) })
      h.on(Hls.Events.ERROR, (_e, d) => {
        if (d.fatal) setError(`Playback error: ${d.details}`)
        if (d.fatal && d.type === Hls.ErrorTypes.NETWORK_ERROR) setTimeout(() => { h.startLoad() }, 2000)
      })
      h.on(Hls.Events.FRAG_BUFFERED, () => { setError(undefined) })
      h.loadSource(src)
      h.attachMedia(v)
    })
    return () => { cancelled = true; hls?.destroy() }
  }, [src])
  return (
    <div>
      <video ref={video} class='video' controls muted playsInline data-testid='viewer-video' />
      {error != null && <p class='error' role='status'>{error}</p>}
    </div>
  )
}

export function WatchPage ({ id }: { id: string }): JSX.Element {
  const { streams } = useDirectory()
  const s = streams?.find(x => x.id === id)
  return (
    <main id='main' class='watch'>
      <section class='panel' aria-labelledby='watch-title'>
        <div class='panel-head'>
          <h2 id='watch-title'>{s != null && s.title !== '' ? s.title : id}</h2>
          {s != null && <span class='row'><Link href={`/channel/${s.channel}`}><span class='mono'>{short(s.channel)}</span></Link><FollowButton channel={s.channel} /></span>}
        </div>
        <Video src={`/live/${id}/index.m3u8`} />
      </section>
      <ChatPanel stream={id} />
    </main>
  )
}
