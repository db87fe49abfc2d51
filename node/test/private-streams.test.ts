/**
 * Private streams (issue 16), with real processes: an ingest (A) and an edge
 * (B) in their own processes, a real RTMP publish of a private and a public
 * stream (ffmpeg test pattern, 320x180, 1 s segments, no worker: the source
 * passes through). B knows nothing of A's tokens but the stream's signed
 * announcement: no token → 401, a bad, expired, forged or other-stream token
 * → 403, and a minted token's playbackUrl plays in ffmpeg with nothing but
 * that URL (every URI of every playlist carries the token). The public
 * stream is unchanged.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { signPlaybackToken } from '@diststream/protocol'
import { loadOrCreatePeerKey } from '@diststream/store'
import { callApi, Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { launchBrowser, openPlayer, playFor, readStats } from './helpers/hlsjs.js'
import { metric } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'

const ffmpeg = resolveFfmpeg()

/** Runs ffmpeg on `url` (copying into a Matroska file) and returns its exit code, stderr and the video packets it wrote. */
async function play (url: string, dir: string): Promise<{ code: number, stderr: string, packets: number }> {
  const out = join(dir, `play-${Date.now()}.mkv`)
  const run = async (bin: string, args: string[]): Promise<{ code: number, stdout: string, stderr: string }> => await new Promise(resolve => {
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    p.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000)
    p.on('close', code => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }) })
  })
  const r = await run(ffmpeg.ffmpeg, ['-nostdin', '-v', 'warning', '-i', url, '-map', '0:v:0', '-c', 'copy', '-y', out])
  if (r.code !== 0) return { code: r.code, stderr: r.stderr, packets: 0 }
  // Count the copied packets by reading the file back through ffmpeg itself (the bundled ffmpeg may have no ffprobe).
  const c = await run(ffmpeg.ffmpeg, ['-nostdin', '-v', 'error', '-i', out, '-map', '0:v:0', '-c', 'copy', '-f', 'framemd5', '-'])
  return { code: r.code, stderr: r.stderr, packets: c.stdout.split('\n').filter(l => /^\d/.test(l)).length }
}

describe('private streams: tokens signed by the ingest, checked offline by another edge', { timeout: 240_000 }, () => {
  const cluster = new Cluster()
  let ingest: NodeProcess
  let edge: NodeProcess
  let api: string
  let base: string
  let dir: string
  let priv: { id: string, key: string }
  let other: { id: string }
  let pub: { id: string, key: string }
  let minted: { token: string, expiresAt: string, playbackUrl: string }
  let failed = false

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ds-private-'))
    const common = ['--segment-seconds', '1', '--ladder', '240p', '--playlist-window', '3']
    ingest = await cluster.start('ingest', ['--role', 'ingest', ...common])
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', await ingest.bootstrapAddr(), ...common])
    api = (await ingest.info).http
    base = (await edge.info).http
  })

  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => { await cluster.close(failed, dir) })

  it('creates private and public streams; anonymous callers never see the private ones', async () => {
    const create = async (body: object): Promise<any> => {
      const r = await callApi(`${api}/api/streams`, 'POST', cluster.apiToken, body)
      assert.equal(r.status, 201, JSON.stringify(r.body))
      return r.body
    }
    priv = await create({ name: 'secret', private: true })
    assert.equal((priv as any).private, true)
    other = await create({ name: 'other secret', private: true })
    pub = await create({ name: 'open' })
    assert.equal((pub as any).private, undefined)
  })

  it('mints tokens: API token required, 201 { token, expiresAt, playbackUrl }, body checked, public streams refused', async () => {
    const url = `${api}/api/streams/${priv.id}/tokens`
    assert.equal((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 401)
    assert.equal((await callApi(url, 'POST', cluster.apiToken, { ttl_seconds: 0 })).status, 400)
    assert.equal((await callApi(url, 'POST', cluster.apiToken, { viewer: 'has spaces' })).status, 400)
    assert.equal((await callApi(url, 'POST', cluster.apiToken, { extra: 1 })).status, 400)
    assert.equal((await callApi(`${api}/api/streams/${pub.id}/tokens`, 'POST', cluster.apiToken, {})).status, 409)
    assert.equal((await callApi(`${api}/api/streams/nosuchstream/tokens`, 'POST', cluster.apiToken, {})).status, 404)
    const r = await callApi(url, 'POST', cluster.apiToken, { ttl_seconds: 600, viewer: 'alice' })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    minted = r.body
    assert.match(minted.token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    const ttl = Date.parse(minted.expiresAt) - Date.now()
    assert.ok(ttl > 590_000 && ttl <= 600_000, `expiresAt ${minted.expiresAt}`)
    assert.equal(minted.playbackUrl, `${api}/live/${priv.id}/index.m3u8?token=${minted.token}`)
    // Without a body at all: the default lifetime.
    const bare = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${cluster.apiToken}` } })
    assert.equal(bare.status, 201)
  })

  it('publishes both streams; the private one stays off anonymous listings', async () => {
    const { rtmpPort } = await ingest.info
    const sources = [priv, pub].map(s => startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${s.key}`, width: 320, height: 180, fps: 25, gopSeconds: 1, durationSec: 6 }))
    try {
      for (const s of sources) assert.equal(await s.done, 0, s.stderrTail().join('\n'))
    } finally {
      await Promise.all(sources.map(async s => { await s.stop() }))
    }
    for (const s of [priv, pub]) {
      await waitUntil(async () => {
        const r = await getJson(`${api}/api/streams/${s.id}`, { headers: { authorization: `Bearer ${cluster.apiToken}` } })
        return r.body.state === 'idle' && r.body.lastSeq >= 3
      }, 30_000, `stream ${s.id} published and ended`)
    }
    const anon = (await getJson(`${api}/api/streams`)).body.map((s: { id: string }) => s.id)
    assert.ok(anon.includes(pub.id), 'the public stream is listed')
    assert.ok(!anon.includes(priv.id), 'the private stream is not listed to anonymous callers')
    assert.equal((await getJson(`${api}/api/streams/${priv.id}`)).status, 404)
    const withToken = (await getJson(`${api}/api/streams`, { headers: { authorization: `Bearer ${cluster.apiToken}` } })).body.map((s: { id: string }) => s.id)
    assert.ok(withToken.includes(priv.id))
  })

  it('at the other edge: no token → 401, a bad, forged, expired or other-stream token → 403, on playlists and segments', async () => {
    const master = `${base}/live/${priv.id}/index.m3u8`
    // The edge learns of the stream (gossip or DHT) on the first request: 401 from then on, never a playlist.
    const first = await waitUntil(async () => { const r = await fetch(master); return r.status !== 404 ? r : undefined }, 20_000, 'the edge to know the stream')
    assert.equal(first.status, 401)
    assert.equal(first.headers.get('access-control-allow-origin'), '*', 'refusals carry CORS, so a player can read them')
    const status = async (path: string, token?: string): Promise<number> => (await fetch(`${base}/live/${priv.id}/${path}${token != null ? `?token=${encodeURIComponent(token)}` : ''}`)).status
    for (const p of ['index.m3u8', 'manifest.mpd', 'source/index.m3u8', '240p/index.m3u8', 'source/0.m4s', 'source/0.ts', 'video/0.m4s']) assert.equal(await status(p), 401, p)

    const otherToken = (await callApi(`${api}/api/streams/${other.id}/tokens`, 'POST', cluster.apiToken, {})).body.token as string
    const nowSec = Math.floor(Date.now() / 1000)
    const ownerKey = await loadOrCreatePeerKey(ingest.dataDir)
    const expired = await signPlaybackToken({ streamId: priv.id, iat: nowSec - 7200, exp: nowSec - 3600 }, d => ownerKey.sign(d))
    const forger = generateKeyPairSync('ed25519').privateKey
    const forged = await signPlaybackToken({ streamId: priv.id, iat: nowSec, exp: nowSec + 600 }, d => new Uint8Array(sign(null, d, forger)))
    const [claims = '', sig = ''] = minted.token.split('.')
    const tampered = `${claims.slice(0, -2)}${claims.endsWith('AA') ? 'AQ' : 'AA'}.${sig}`
    for (const [what, t] of [['garbage', 'garbage'], ['other stream', otherToken], ['expired', expired], ['forged', forged], ['tampered', tampered], ['oversize', 'A'.repeat(300)]] as const) {
      assert.equal(await status('index.m3u8', t), 403, what)
      assert.equal(await status('source/0.m4s', t), 403, `${what} (segment)`)
    }
    // A token for the private stream opens nothing of the other one.
    assert.equal((await fetch(`${base}/live/${other.id}/index.m3u8?token=${minted.token}`)).status, 404, 'never published: unknown to the edge')
    const m = await getText(`${base}/metrics`)
    for (const reason of ['missing', 'stream', 'expired', 'signature', 'malformed']) {
      assert.ok(metric(m.text, 'diststream_edge_playback_refused_total', `reason="${reason}"`) >= 1, reason)
    }
  })

  it('the minted playbackUrl, pointed at the edge, plays in ffmpeg with nothing but that URL; every URI carries the token; answers are private', async () => {
    const url = minted.playbackUrl.replace(api, base)
    const masterRes = await fetch(url)
    assert.equal(masterRes.status, 200)
    assert.match(masterRes.headers.get('cache-control') ?? '', /^private\b/)
    const master = await masterRes.text()
    const uris = [...master.matchAll(/^[^#\s].*$/gm), ...master.matchAll(/URI="([^"]+)"/g)].map(x => x[1] ?? x[0])
    assert.ok(uris.length >= 2, master)
    for (const u of uris) assert.ok(u.endsWith(`?token=${minted.token}`), `${u} in\n${master}`)
    const media = await getText(`${base}/live/${priv.id}/source/index.m3u8?token=${minted.token}`)
    assert.equal(media.status, 200)
    assert.ok(media.text.includes('#EXT-X-ENDLIST'), media.text)
    const lines = media.text.split('\n').filter(l => l !== '' && (!l.startsWith('#') || l.includes('URI=')))
    assert.ok(lines.length >= 4)
    for (const l of lines) assert.ok(l.includes(`?token=${minted.token}`), l)
    // A blocking reload (LL-HLS `_HLS_msn`) is guarded and rewritten the same way.
    assert.equal((await fetch(`${base}/live/${priv.id}/source/index.m3u8?_HLS_msn=1`)).status, 401)
    const blocking = await getText(`${base}/live/${priv.id}/source/index.m3u8?_HLS_msn=1&token=${minted.token}`)
    assert.equal(blocking.status, 200)
    assert.ok(blocking.text.split('\n').filter(l => /^\d+\.m4s/.test(l)).every(l => l.endsWith(`?token=${minted.token}`)), blocking.text)
    const mpd = await getText(`${base}/live/${priv.id}/manifest.mpd?token=${minted.token}`)
    assert.equal(mpd.status, 200)
    assert.match(mpd.text, new RegExp(`media="[^"]+\\?token=${minted.token}"`))

    const played = await play(url, dir)
    assert.equal(played.code, 0, played.stderr)
    assert.ok(played.packets >= 50, `${played.packets} video packets played (6 s at 25 fps published)`)

    // Segments: served with the token, privately cached; the same segment, now hot in memory, still needs the token.
    const seg = await fetch(`${base}/live/${priv.id}/source/1.m4s?token=${minted.token}`)
    assert.equal(seg.status, 200)
    assert.match(seg.headers.get('cache-control') ?? '', /^private\b/)
    assert.equal((await fetch(`${base}/live/${priv.id}/source/1.m4s`)).status, 401)
  })

  it('thumbnails keep the private stream private', async () => {
    assert.equal((await fetch(`${base}/live/${priv.id}/thumbnail.jpg`)).status, 401)
    assert.equal((await fetch(`${base}/live/${priv.id}/thumbnail.jpg?token=garbage`)).status, 403)
    const thumb = await fetch(`${base}/live/${priv.id}/thumbnail.jpg?token=${minted.token}`)
    assert.equal(thumb.status, 200)
    assert.match(thumb.headers.get('cache-control') ?? '', /^private\b/)
  })

  it('hls.js in Chromium plays the minted URL at the edge; every request it makes carries the token', async () => {
    const browser = await launchBrowser()
    try {
      const url = minted.playbackUrl.replace(api, base)
      const page = await openPlayer(browser, url, 'source/')
      const live: string[] = []
      page.on('request', req => { if (req.url().includes('/live/')) live.push(req.url()) })
      await playFor(page, 2, 30_000)
      const stats = await readStats(page)
      assert.equal(stats.fatal, null)
      assert.ok(stats.playing)
      assert.ok(live.some(u => u.endsWith('.m4s?token=' + minted.token)), live.join('\n'))
      assert.deepEqual(live.filter(u => !u.includes(`token=${minted.token}`)), [], 'every request hls.js made carried the token')
    } finally {
      await browser.close()
    }
  })

  it('an upload can be private too (?private=true), and stays off anonymous listings', async () => {
    const file = join(dir, 'clip.ts')
    const gen = spawn(ffmpeg.ffmpeg, ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-t', '2', '-c:v', 'libx264', '-g', '25', '-pix_fmt', 'yuv420p', '-y', file])
    assert.equal(await new Promise(resolve => gen.on('close', resolve)), 0)
    const r = await fetch(`${api}/api/uploads?name=clip&private=true`, { method: 'POST', headers: { authorization: `Bearer ${cluster.apiToken}`, 'content-type': 'video/mp2t' }, body: await readFile(file) })
    assert.equal(r.status, 201)
    const vod = await r.json() as { id: string, private?: boolean }
    assert.equal(vod.private, true)
    assert.ok(!(await getJson(`${api}/api/streams`)).body.some((s: { id: string }) => s.id === vod.id))
    assert.equal((await callApi(`${api}/api/streams/${vod.id}/tokens`, 'POST', cluster.apiToken, {})).status, 201)
  })

  it('the public stream is unchanged: no token needed, publicly cacheable', async () => {
    const r = await fetch(`${base}/live/${pub.id}/index.m3u8`)
    assert.equal(r.status, 200)
    assert.ok(!(await r.text()).includes('token='))
    const seg = await fetch(`${base}/live/${pub.id}/source/1.m4s`)
    assert.equal(seg.status, 200)
    assert.match(seg.headers.get('cache-control') ?? '', /^public\b/)
  })
})
