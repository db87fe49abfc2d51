/**
 * The broadcaster's page (issue 17): register, log in, log out, create a
 * channel and a stream in it. The session is an HttpOnly cookie this page
 * never sees; every call is same-origin, so the node's cross-site check lets
 * it through.
 */
import { useEffect, useState } from 'preact/hooks'
import { CopyButton, Panel } from './panels.js'
import type { JSX } from 'preact'

interface Me { username: string, channels: string[] }
interface Created { id: string, key: string, rtmpUrl: string, playbackUrl: string }

/** A same-origin JSON call with the session cookie (never the API token): the body, or an Error with the node's message. */
async function call<T> (method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, { method, credentials: 'same-origin', headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  let json: any
  try { json = text === '' ? undefined : JSON.parse(text) } catch { json = undefined }
  if (!res.ok) throw new Error(json?.error ?? `HTTP ${res.status}`)
  return json as T
}

const value = (form: HTMLFormElement, name: string): string => (form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? ''

function LoginForm ({ onLogin }: { onLogin: (me: Me) => void }): JSX.Element {
  const [error, setError] = useState('')
  const submit = (register: boolean) => async (e: Event): Promise<void> => {
    e.preventDefault()
    const form = (e.target as HTMLElement).closest('form')!
    const creds = { username: value(form, 'username').trim(), password: value(form, 'password') }
    try {
      if (register) await call('POST', '/api/users', creds)
      onLogin(await call<Me>('POST', '/api/sessions', creds))
      setError('')
    } catch (err) { setError((err as Error).message) }
  }
  return (
    <Panel title='Broadcaster login' id='login'>
      <form class='account-form' onSubmit={(e) => { void submit(false)(e) }}>
        <label>Username <input name='username' autocomplete='username' required pattern='[a-z0-9][a-z0-9_\-]{2,31}' /></label>
        <label>Password <input name='password' type='password' autocomplete='current-password' required minLength={10} /></label>
        <div class='row'>
          <button type='submit' class='btn btn-primary'>Log in</button>
          <button type='button' class='btn' onClick={(e) => { void submit(true)(e) }}>Register</button>
        </div>
        {error !== '' && <p class='error' role='alert'>{error}</p>}
      </form>
    </Panel>
  )
}

function Channels ({ me, onChange }: { me: Me, onChange: () => void }): JSX.Element {
  const [error, setError] = useState('')
  const [created, setCreated] = useState<Created>()
  const run = async (fn: () => Promise<void>): Promise<void> => { try { await fn(); setError('') } catch (err) { setError((err as Error).message) } }
  const createChannel = (e: Event): void => {
    e.preventDefault()
    const f = e.target as HTMLFormElement
    void run(async () => { await call('POST', '/api/channels', { name: value(f, 'name'), title: value(f, 'title'), avatarUrl: value(f, 'avatarUrl') }); onChange() })
  }
  const createStream = (channel: string): void => { void run(async () => { setCreated(await call<Created>('POST', '/api/streams', { name: `${channel} live`, channel })) }) }
  return (
    <Panel title={`Channels of ${me.username}`} id='channels'>
      <ul class='channel-list'>
        {me.channels.map(c => <li key={c} class='row'><code class='mono'>{c}</code><button type='button' class='btn btn-small' onClick={() => { createStream(c) }}>New stream</button></li>)}
      </ul>
      {created != null && (
        <dl class='facts'>
          <dt>RTMP URL</dt><dd class='row'><code class='mono ellipsis'>{created.rtmpUrl}</code><CopyButton text={created.rtmpUrl} label='RTMP URL' /></dd>
          <dt>Playback</dt><dd><code class='mono ellipsis'>{created.playbackUrl}</code></dd>
          <dd class='muted small'>The key is shown only now; “New stream” again for another.</dd>
        </dl>
      )}
      <form class='account-form' onSubmit={createChannel}>
        <label>Channel name <input name='name' required pattern='[a-z0-9][a-z0-9_\-]{2,31}' /></label>
        <label>Title <input name='title' maxLength={140} /></label>
        <label>Avatar URL <input name='avatarUrl' type='url' placeholder='https://…' /></label>
        <button type='submit' class='btn btn-primary'>Create channel</button>
      </form>
      {error !== '' && <p class='error' role='alert'>{error}</p>}
    </Panel>
  )
}

export function AccountPage (): JSX.Element {
  const [me, setMe] = useState<Me | null>()
  const refresh = (): void => { call<Me>('GET', '/api/me').then(setMe, () => { setMe(null) }) }
  useEffect(refresh, [])
  const logout = (): void => { void call('DELETE', '/api/sessions').finally(() => { setMe(null) }) }
  if (me === undefined) return <main id='main' class='loading' aria-busy='true'><div class='spinner' aria-hidden='true' /></main>
  return (
    <main id='main' class='grid'>
      {me === null
        ? <LoginForm onLogin={setMe} />
        : <><Channels me={me} onChange={refresh} /><p class='row'><button type='button' class='btn btn-ghost' onClick={logout}>Log out {me.username}</button></p></>}
    </main>
  )
}
