/**
 * hls.js (the web dashboard's dependency) in a real Chromium plays a live
 * stream from an edge for at least 20 s of media without a stall, in the
 * standard mode (2 s segments) and in `--low-latency` mode (1 s segments,
 * blocking playlist reload). Real processes: ingest, worker, edge; a real
 * ffmpeg RTMP publish with -re. It prints `hls.latency` and glass-to-glass
 * (Date.now() − hls.playingDate, from the ingest's EXT-X-PROGRAM-DATE-TIME);
 * it asserts no latency figure (those are the bench's P4). The low-latency
 * suite also checks the blocking reload's HTTP behaviour against the edge.
 * Independent of the segment container: it only plays and reads playlists.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMediaPlaylist } from '@diststream/hls'
import { Cluster } from './helpers/cluster.js'
import { CHROMIUM, launchBrowser, openPlayer, percentile, playFor, readStats, startPlaybackNetwork } from './helpers/hlsjs.js'
import type { Browser } from 'playwright-core'
import type { PlaybackNetwork } from './helpers/hlsjs.js'

const PLAY_SECONDS = 20

async function fetchPlaylist (url: string, ms = 15_000): Promise<{ status: number, text: string, cacheControl: string | null, tookMs: number }> {
  const t0 = Date.now()
  const res = await fetch(url, { signal: AbortSignal.timeout(ms) })
  return { status: res.status, text: await res.text(), cacheControl: res.headers.get('cache-control'), tookMs: Date.now() - t0 }
}

for (const lowLatency of [false, true]) {
  const mode = lowLatency ? 'low-latency' : 'standard'
  describe(`hls.js plays a live stream from an edge (${mode})`, { timeout: 300_000, skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
    const cluster = new Cluster({ exclusive: true })
    let net: PlaybackNetwork
    let browser: Browser
    let failed = false
    afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })

    before(async () => {
      net = await startPlaybackNetwork(cluster, { lowLatency })
      browser = await launchBrowser()
    })

    after(async () => {
      await net?.source.stop()
      await browser?.close()
      await cluster.close(failed)
    })

    it(`plays ≥ ${PLAY_SECONDS} s without stalls and reports hls.latency`, async () => {
      const page = await openPlayer(browser, net.masterUrl)
      const samples = await playFor(page, PLAY_SECONDS, 90_000)
      const stats = await readStats(page)
      const last = samples.at(-1)!
      const latencies = samples.map(s => s.latency).filter((x): x is number => x != null)
      const g2g = samples.map(s => s.glassToGlassMs).filter((x): x is number => x != null)
      process.stdout.write(`[hlsjs ${mode}] played ${(last.currentTime - stats.startTime).toFixed(1)} s of ${net.segmentSeconds} s segments; ` +
        `hls.latency p50 ${percentile(latencies, 50).toFixed(2)} s (last ${last.latency?.toFixed(2)} s, target ${last.targetLatency?.toFixed(2)} s); ` +
        `glass-to-glass p50 ${(percentile(g2g, 50) / 1000).toFixed(2)} s, p95 ${(percentile(g2g, 95) / 1000).toFixed(2)} s; ` +
        `blocking reloads ${stats.blockingReloads}; level ${stats.levelUrl}; errors ${JSON.stringify(stats.errors)}\n`)
      assert.equal(stats.fatal, null, `no fatal hls.js error (${JSON.stringify(stats.errors)})`)
      assert.ok(last.currentTime - stats.startTime >= PLAY_SECONDS, `currentTime advanced ${(last.currentTime - stats.startTime).toFixed(1)} s, want ≥ ${PLAY_SECONDS}`)
      assert.equal(stats.stallsAfterStart, 0, `BUFFER_STALLED_ERROR after playback started (${JSON.stringify(stats.errors)})`)
      assert.equal(stats.waitingAfterStart, 0, 'video `waiting` events after playback started')
      assert.ok(latencies.length > 0, 'hls.latency was reported')
      assert.ok(g2g.length > 0, 'hls.playingDate was reported (EXT-X-PROGRAM-DATE-TIME)')
      assert.match(stats.levelUrl ?? '', /240p\/index\.m3u8/, 'the transcoded rendition played')
      if (lowLatency) assert.ok(stats.blockingReloads > 0, 'hls.js used blocking playlist reloads (_HLS_msn)')
      else assert.equal(stats.blockingReloads, 0, 'no blocking reloads without EXT-X-SERVER-CONTROL')
      await page.close()
    })

    it(lowLatency
      ? 'advertises and answers blocking playlist reloads (_HLS_msn) per RFC 8216bis'
      : 'advertises no blocking reload, keeps the short max-age, and still validates _HLS_ parameters', async () => {
      const url = `${new URL(net.masterUrl).origin}/live/${net.streamId}/240p/index.m3u8`
      const plain = await fetchPlaylist(url)
      assert.equal(plain.status, 200)
      const p = parseMediaPlaylist(plain.text)
      const lastSeq = p.segments.at(-1)!.seq
      const control = /^#EXT-X-SERVER-CONTROL:(.*)$/m.exec(plain.text)?.[1]
      // Malformed directives are a 400 on any edge.
      for (const q of ['_HLS_msn=abc', '_HLS_msn=-1', '_HLS_part=0', `_HLS_msn=${lastSeq}&_HLS_msn=${lastSeq}`, `_HLS_msn=${lastSeq}&_HLS_skip=maybe`]) {
        const bad = await fetchPlaylist(`${url}?${q}`)
        assert.equal(bad.status, 400, `${q} → ${bad.status} ${bad.text}`)
        assert.match(bad.text, /_HLS_/)
      }
      // More than two segments ahead of the live edge: 400 at once (the spec's advice).
      assert.equal((await fetchPlaylist(`${url}?_HLS_msn=${lastSeq + 50}`)).status, 400)
      if (!lowLatency) {
        assert.equal(control, undefined, 'no EXT-X-SERVER-CONTROL in the standard mode')
        assert.equal(plain.cacheControl, 'public, max-age=1', 'half a 2 s segment')
        return
      }
      assert.equal(p.targetDuration, 1, '1 s segments')
      assert.match(control ?? '', /^CAN-BLOCK-RELOAD=YES,HOLD-BACK=([0-9.]+)$/)
      assert.ok(Number(/HOLD-BACK=([0-9.]+)/.exec(control!)![1]) >= 3 * p.targetDuration, 'HOLD-BACK ≥ 3 × TARGETDURATION')
      assert.equal(plain.cacheControl, 'public, max-age=1')
      // A listed segment: answered at once, whole playlist, not cacheable.
      const now = await fetchPlaylist(`${url}?_HLS_msn=${lastSeq}`)
      assert.equal(now.status, 200)
      assert.equal(now.cacheControl, 'no-cache')
      assert.ok(parseMediaPlaylist(now.text).segments.some(s => s.seq === lastSeq))
      // The next segments: held until the edge lists them (the stream runs on), then answered.
      const current = parseMediaPlaylist((await fetchPlaylist(url)).text).segments.at(-1)!.seq
      for (const msn of [current + 1, current + 2]) {
        const held = await fetchPlaylist(`${url}?_HLS_msn=${msn}&_HLS_part=0`)
        assert.equal(held.status, 200, `${msn}: ${held.status} ${held.text}`)
        assert.equal(held.cacheControl, 'no-cache')
        const got = parseMediaPlaylist(held.text)
        assert.ok(got.segments.some(s => s.seq === msn && s.gap !== true), `the answer lists segment ${msn}`)
        process.stdout.write(`[hlsjs ${mode}] _HLS_msn=${msn} held ${held.tookMs} ms\n`)
      }
    })
  })
}
