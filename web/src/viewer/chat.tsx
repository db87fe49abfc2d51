/**
 * A stream's live chat: the edge's event stream (`/chat/:id/events`) and
 * signed messages POSTed to `/chat/:id` (PROTOCOL.md §10). The owner's
 * deletions and bans take messages away as the edge relays them.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { isOwner, MessageActions, SlowModeControl } from './moderation.js'
import { loadIdentity, saveName, signMessage, MAX_NAME_BYTES, MAX_TEXT_BYTES } from './identity.js'
import type { Identity, SignedMessage } from './identity.js'
import type { JSX } from 'preact'

/** Messages kept on the page (older ones scroll away). */
const MAX_SHOWN = 200

type Event = { type: 'msg', m: SignedMessage } | { type: 'removed', ids: string[] } | { type: 'moderation', slowSeconds: number, bans: string[] }

const bytes = (s: string): number => new TextEncoder().encode(s).length

/** How long to wait before opening a refused chat stream again. */
const RECONNECT_MS = 3000

interface FeedSetters {
  setConnected: (v: boolean) => void
  setMessages: (f: (ms: SignedMessage[]) => SignedMessage[]) => void
  setSlow: (n: number) => void
}

/** Opens the chat's event stream and applies its events. */
function listen (stream: string, { setConnected, setMessages, setSlow }: FeedSetters): EventSource {
  const es = new EventSource(`/chat/${stream}/events`)
  let banned = new Set<string>()
  es.onopen = () => { setConnected(true) }
  es.onerror = () => { setConnected(false) }
  es.addEventListener('hello', (e) => {
    const h = JSON.parse((e as MessageEvent<string>).data) as { recent: SignedMessage[], moderation: { slowSeconds: number, bans: string[] } }
    banned = new Set(h.moderation.bans)
    setMessages(() => h.recent)
    setSlow(h.moderation.slowSeconds)
  })
  const on = (e: MessageEvent<string>): void => {
    const ev = JSON.parse(e.data) as Event
    if (ev.type === 'msg') {
      if (banned.has(ev.m.key)) return
      setMessages(ms => ms.some(m => m.id === ev.m.id) ? ms : [...ms, ev.m].slice(-MAX_SHOWN))
    } else if (ev.type === 'removed') {
      const gone = new Set(ev.ids)
      setMessages(ms => ms.filter(m => !gone.has(m.id)))
    } else {
      banned = new Set(ev.bans)
      setSlow(ev.slowSeconds)
      setMessages(ms => ms.filter(m => !banned.has(m.key)))
    }
  }
  for (const t of ['msg', 'removed', 'moderation']) es.addEventListener(t, on as (e: globalThis.Event) => void)
  return es
}

/** The edge's chat events for `stream`: the messages shown, slow mode, and whether the stream is connected. */
function useChatFeed (stream: string): { messages: SignedMessage[], slow: number, connected: boolean } {
  const [messages, setMessages] = useState<SignedMessage[]>([])
  const [slow, setSlow] = useState(0)
  const [connected, setConnected] = useState(false)
  useEffect(() => {
    let es: EventSource | undefined
    let retry: ReturnType<typeof setTimeout> | undefined
    let closed = false
    const open = (): void => {
      es = listen(stream, { setConnected, setMessages, setSlow })
      // A refused stream (404 before the edge has heard of the stream, 503 when it is full) is not retried
      // by EventSource itself: try again, at this bounded pace, while the page is open.
      es.addEventListener('error', () => {
        if (es?.readyState !== EventSource.CLOSED || closed) return
        retry = setTimeout(open, RECONNECT_MS)
      })
    }
    open()
    return () => { closed = true; clearTimeout(retry); es?.close() }
  }, [stream])

  return { messages, slow, connected }
}

export function ChatPanel ({ stream }: { stream: string }): JSX.Element {
  const [id, setId] = useState<Identity | undefined>()
  const [idError, setIdError] = useState<string | undefined>()
  const [text, setText] = useState('')
  const [status, setStatus] = useState<string | undefined>()
  const [nameDraft, setNameDraft] = useState<string | undefined>()
  const list = useRef<HTMLOListElement>(null)

  useEffect(() => {
    loadIdentity().then(setId, (err: Error) => { setIdError(err.message) })
  }, [])

  const { messages, slow, connected } = useChatFeed(stream)
  const owner = isOwner()

  useEffect(() => {
    const el = list.current
    if (el != null) el.scrollTop = el.scrollHeight
  }, [messages])

  const send = async (e: globalThis.Event): Promise<void> => {
    e.preventDefault()
    if (id == null || text.trim() === '') return
    if (bytes(text) > MAX_TEXT_BYTES) { setStatus(`Too long: at most ${MAX_TEXT_BYTES} bytes.`); return }
    const m = await signMessage(id, stream, text)
    const res = await fetch(`/chat/${stream}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(m) })
    if (res.ok) {
      setText('')
      setStatus(undefined)
    } else {
      const body = await res.json().catch(() => ({})) as { error?: string }
      setStatus(res.status === 429 ? `Slow down: ${body.error ?? 'too many messages'}` : res.status === 403 ? 'You are banned from this chat.' : `Not sent: ${body.error ?? res.status}`)
    }
  }

  const rename = async (e: globalThis.Event): Promise<void> => {
    e.preventDefault()
    if (id == null || nameDraft == null) return
    if (bytes(nameDraft) > MAX_NAME_BYTES) { setStatus(`Name too long: at most ${MAX_NAME_BYTES} bytes.`); return }
    setId(await saveName(id, nameDraft))
    setNameDraft(undefined)
  }

  return (
    <section class='panel chat' aria-labelledby='chat-title' data-testid='chat'>
      <div class='panel-head'>
        <h2 id='chat-title'>Live chat</h2>
        <span class={`conn ${connected ? 'ok' : 'off'}`} role='status'><span class='dot' aria-hidden='true' />{connected ? 'Connected' : 'Connecting…'}</span>
      </div>
      {slow > 0 && <p class='muted small' data-testid='slow-mode'>Slow mode: one message every {slow} s.</p>}
      <ol class='chat-list' ref={list} aria-live='polite' data-testid='chat-messages'>
        {messages.map(m => (
          <li key={m.id} data-id={m.id} data-key={m.key} class={m.key === id?.key ? 'mine' : ''}>
            <span class='chat-name' title={m.key}>{m.name}</span> <span class='chat-text'>{m.text}</span>
            {owner && <MessageActions stream={stream} id={m.id} viewerKey={m.key} onError={setStatus} />}
          </li>
        ))}
      </ol>
      {owner && <SlowModeControl stream={stream} current={slow} onError={setStatus} />}
      {idError != null && <p class='error' role='alert'>Chat needs a key: {idError}</p>}
      {id != null && (
        <>
          <form class='chat-form' onSubmit={e => { void send(e) }}>
            <label class='sr-only' for='chat-input'>Message</label>
            <input id='chat-input' data-testid='chat-input' autoComplete='off' value={text} maxLength={MAX_TEXT_BYTES} onInput={e => { setText((e.target as HTMLInputElement).value) }} placeholder={`Say something as ${id.name}`} />
            <button type='submit' class='btn btn-primary btn-small'>Send</button>
          </form>
          {nameDraft == null
            ? <p class='muted small'>You are <strong data-testid='chat-self'>{id.name}</strong> (key <span class='mono' data-testid='chat-key'>{id.key.slice(0, 10)}…</span>, kept in this browser). <button type='button' class='btn btn-ghost btn-small' onClick={() => { setNameDraft(id.name) }}>Change name</button></p>
            : (
              <form class='chat-form' onSubmit={e => { void rename(e) }}>
                <label for='chat-name'>Display name</label>
                <input id='chat-name' value={nameDraft} onInput={e => { setNameDraft((e.target as HTMLInputElement).value) }} />
                <button type='submit' class='btn btn-small'>Save</button>
              </form>
              )}
        </>
      )}
      {status != null && <p class='error' role='alert' data-testid='chat-status'>{status}</p>}
    </section>
  )
}
