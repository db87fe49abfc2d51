import { render } from 'preact'
import { useState } from 'preact/hooks'
import { AccountPage } from './account.js'
import { getToken, setToken, shortId, useLive, useReputation } from './api.js'
import { LatencyChart, WorkerBars } from './charts.js'
import { JobMarket, NodeCard, Panel, PeersPanel, Stats, StreamsPanel } from './panels.js'
import { PlayerPage } from './player.js'
import { Link, usePath } from './router.js'
import './style.css'
import type { JSX } from 'preact'

function TokenControl (): JSX.Element {
  const [open, setOpen] = useState(false)
  const [value, setValue] = useState(getToken())
  const [saved, setSaved] = useState(getToken() !== '')
  const save = (e: Event): void => {
    e.preventDefault()
    setToken(value.trim())
    setSaved(value.trim() !== '')
    setOpen(false)
  }
  return (
    <div class='token'>
      <button type='button' class='btn btn-ghost btn-small' aria-expanded={open} aria-controls='token-form' onClick={() => { setOpen(!open) }}>
        <span class={`dot ${saved ? 'ok' : 'off'}`} aria-hidden='true' /> API token{saved ? ' set' : ''}
      </button>
      {open && (
        <form id='token-form' class='token-form' onSubmit={save} onKeyDown={e => { if (e.key === 'Escape') setOpen(false) }}>
          <label for='api-token'>API token for stream actions</label>
          <input id='api-token' type='password' autoComplete='off' autoFocus value={value} onInput={e => { setValue((e.target as HTMLInputElement).value) }} placeholder="paste the node's token" />
          <div class='muted small'>Kept in this browser only and sent as <code>Authorization: Bearer</code>.</div>
          <div class='row'><button type='submit' class='btn btn-primary btn-small'>Save</button>{saved && <button type='button' class='btn btn-ghost btn-small' onClick={() => { setValue(''); setToken(''); setSaved(false); setOpen(false) }}>Forget</button>}</div>
        </form>
      )}
    </div>
  )
}

function Header ({ path }: { path: string }): JSX.Element {
  const live = useLive()
  const node = live.snapshot?.node
  const nav: Array<[string, string]> = [['/', 'Overview'], ['/streams', 'Streams'], ['/jobs', 'Jobs'], ['/network', 'Network'], ['/account', 'Broadcast']]
  return (
    <header class='topbar'>
      <a class='skip' href='#main'>Skip to content</a>
      <Link href='/' class='brand' aria-label='DistStream dashboard home'><span class='logo' aria-hidden='true'>◆</span> DistStream</Link>
      <nav aria-label='Sections' class='nav'>
        {nav.map(([href, label]) => <Link key={href} href={href} aria-current={path === href || (href !== '/' && path.startsWith(href + '/')) ? 'page' : undefined}>{label}</Link>)}
      </nav>
      <div class='topbar-right'>
        {node != null && <span class='node-id mono' title={node.peerId}>{shortId(node.peerId)}</span>}
        <span class={`conn ${live.connected ? 'ok' : 'off'}`} role='status' aria-live='polite'><span class='dot' aria-hidden='true' />{live.connected ? 'Live' : 'Reconnecting…'}</span>
        <TokenControl />
      </div>
    </header>
  )
}

function Dashboard ({ section }: { section: 'all' | 'streams' | 'jobs' | 'network' }): JSX.Element {
  const live = useLive()
  const snap = live.snapshot
  const reputation = useReputation(section === 'all' && snap?.node.roles.includes('ingest') === true)
  if (snap == null) return <main id='main' class='loading' aria-busy='true'><div class='spinner' aria-hidden='true' /> Connecting to the node…</main>
  const roles = snap.node.roles
  const isIngest = roles.includes('ingest')
  const isEdge = roles.includes('edge')
  if (section === 'streams') return <main id='main' class='grid'><StreamsPanel streams={snap.streams} isIngest={isIngest} isEdge={isEdge} edgeStreams={snap.edgeStreams} /></main>
  if (section === 'jobs') return <main id='main' class='grid'><JobMarket jobs={live.jobs} flashes={live.flashes} limit={100} isIngest={isIngest} /></main>
  if (section === 'network') return <main id='main' class='grid'><PeersPanel snap={snap} /></main>
  return (
    <main id='main' class='grid'>
      <Stats snap={snap} jobs={live.jobs} />
      <NodeCard node={snap.node} />
      <div class='stack'>
        <Panel title='Segment latency' id='latency'><p class='panel-sub'>Segment closed at the ingest → every rendition stored, per segment</p><LatencyChart points={live.latency} /></Panel>
        <Panel title='Jobs per worker' id='workers'><p class='panel-sub'>Done and failed attempts at this ingest</p><WorkerBars workers={snap.workers} self={snap.node.peerId} reputation={reputation} /></Panel>
      </div>
      <StreamsPanel streams={snap.streams} isIngest={isIngest} isEdge={isEdge} edgeStreams={snap.edgeStreams} />
      <JobMarket jobs={live.jobs} flashes={live.flashes} isIngest={isIngest} />
      <PeersPanel snap={snap} />
    </main>
  )
}

function App (): JSX.Element {
  const path = usePath()
  const m = /^\/streams\/([a-z0-9]{1,64})$/.exec(path)
  let page: JSX.Element
  if (m != null) page = <PlayerPage id={m[1]!} />
  else if (path === '/streams') page = <Dashboard section='streams' />
  else if (path === '/jobs') page = <Dashboard section='jobs' />
  else if (path === '/network') page = <Dashboard section='network' />
  else if (path === '/') page = <Dashboard section='all' />
  else if (path === '/account') page = <AccountPage />
  else page = <main id='main' class='loading'><h1>Not found</h1><p><Link href='/'>Back to the dashboard</Link></p></main>
  return (
    <>
      <Header path={path} />
      {page}
      <footer class='foot muted small'>DistStream · peer-to-peer live transcoding · <a href='/metrics'>metrics</a> · <a href='/api/node'>API</a></footer>
    </>
  )
}

render(<App />, document.getElementById('app')!)
