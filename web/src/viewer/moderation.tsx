/**
 * The owner's chat tools, shown only to a browser holding this node's API
 * token (the dashboard's "API token"): delete a message, ban its key, set
 * slow mode, through `POST /api/streams/:id/chat/moderation` on this node,
 * which must be the stream's ingest. (With accounts, the owner's session
 * will stand in for the token.)
 */
import { useState } from 'preact/hooks'
import { api, getToken } from '../api.js'
import type { JSX } from 'preact'

async function moderate (stream: string, body: Record<string, unknown>, onError: (msg: string) => void): Promise<void> {
  try {
    await api('POST', `/api/streams/${stream}/chat/moderation`, body)
  } catch (err) {
    onError(`Moderation refused: ${(err as Error).message}`)
  }
}

export const isOwner = (): boolean => getToken() !== ''

export function MessageActions ({ stream, id, viewerKey, onError }: { stream: string, id: string, viewerKey: string, onError: (msg: string) => void }): JSX.Element {
  return (
    <span class='mod-actions'>
      <button type='button' class='btn btn-ghost btn-small' title='Delete this message everywhere' onClick={() => { void moderate(stream, { action: 'delete', id }, onError) }}>Delete</button>
      <button type='button' class='btn btn-ghost btn-small' title="Ban this viewer's key on every edge" onClick={() => { void moderate(stream, { action: 'ban', key: viewerKey }, onError) }}>Ban</button>
    </span>
  )
}

export function SlowModeControl ({ stream, current, onError }: { stream: string, current: number, onError: (msg: string) => void }): JSX.Element {
  const [seconds, setSeconds] = useState(String(current))
  const submit = (e: Event): void => {
    e.preventDefault()
    void moderate(stream, { action: 'slow', seconds: Number.parseInt(seconds, 10) || 0 }, onError)
  }
  return (
    <form class='chat-form' onSubmit={submit}>
      <label for='slow-seconds' class='small'>Slow mode (s, 0 = off)</label>
      <input id='slow-seconds' type='number' min={0} max={3600} value={seconds} onInput={e => { setSeconds((e.target as HTMLInputElement).value) }} />
      <button type='submit' class='btn btn-small'>Set</button>
    </form>
  )
}
