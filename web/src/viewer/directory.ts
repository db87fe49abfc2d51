/**
 * The network's live directory as this edge knows it (`/api/directory/events`),
 * shared by every viewer page, and the "a followed channel went live" notices:
 * a stream that appears live (or goes live again) on a followed channel makes
 * a notice in the page at once, and a system notification when allowed.
 */
import { useEffect, useState } from 'preact/hooks'
import { isFollowing } from './follows.js'

export interface DirectoryStream {
  id: string
  title: string
  channel: string
  live: boolean
  vod: boolean
  updatedAtMs: number
  renditions: string[]
  playbackUrl: string
  /** Added by the thumbnails work (r/thumbs) where a node has it: shown when present. */
  thumbnailUrl?: string
  viewers?: number
}

export interface Notice { key: string, stream: DirectoryStream, at: number }

interface State { streams: DirectoryStream[] | undefined, connected: boolean, notices: Notice[] }

/** Notices shown at most (the oldest go). */
const MAX_NOTICES = 5

let state: State = { streams: undefined, connected: false, notices: [] }
const listeners = new Set<() => void>()
let source: EventSource | undefined
let liveBefore: Set<string> | undefined

function set (next: Partial<State>): void {
  state = { ...state, ...next }
  for (const l of listeners) l()
}

function onDirectory (streams: DirectoryStream[]): void {
  const live = new Set(streams.filter(s => s.live).map(s => s.id))
  // The first list is what was live before this page opened: no notice for it.
  if (liveBefore != null) {
    const fresh = streams.filter(s => s.live && !liveBefore!.has(s.id) && isFollowing(s.channel))
    if (fresh.length > 0) {
      const notices = [...state.notices, ...fresh.map(s => ({ key: `${s.id}-${Date.now()}`, stream: s, at: Date.now() }))].slice(-MAX_NOTICES)
      set({ notices })
      for (const s of fresh) systemNotify(s)
    }
  }
  liveBefore = live
  set({ streams })
}

function systemNotify (s: DirectoryStream): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return
  try {
    const n = new Notification(`${s.title !== '' ? s.title : s.id} is live`, { body: `Channel ${s.channel.slice(-8)}`, tag: s.id })
    n.onclick = () => { window.focus(); location.assign(`/watch/${s.id}`) }
  } catch {
    // Some browsers allow notifications only from a service worker: the in-page notice is there anyway.
  }
}

function connect (): void {
  if (source != null) return
  source = new EventSource('/api/directory/events')
  source.onopen = () => { set({ connected: true }) }
  source.onerror = () => { set({ connected: false }) }
  source.addEventListener('directory', (e) => {
    try {
      onDirectory((JSON.parse((e as MessageEvent<string>).data) as { streams: DirectoryStream[] }).streams)
    } catch {
      // A frame we cannot read: the next one replaces the whole list.
    }
  })
}

export function dismissNotice (key: string): void {
  set({ notices: state.notices.filter(n => n.key !== key) })
}

export function useDirectory (): State {
  const [s, setS] = useState(state)
  useEffect(() => {
    connect()
    const l = (): void => { setS(state) }
    listeners.add(l)
    l()
    return () => { listeners.delete(l) }
  }, [])
  return s
}
