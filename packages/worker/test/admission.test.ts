import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BidBook, DEFAULT_JOB_LIMITS, refuseJob, StreamOrigins } from '../src/admission.js'
import { STREAM_SALT_BYTES, StreamAnnounce, streamIdFor } from '@diststream/protocol'
import type { JobAnnounce } from '@diststream/protocol'

function job (over: Partial<JobAnnounce> = {}): JobAnnounce {
  return {
    jobId: 'job1',
    streamId: 'stream1',
    seq: 3,
    durationMs: 2000,
    size: 500_000,
    width: 1280,
    height: 720,
    videoCodec: 'h264',
    audioCodec: 'aac',
    fpsMilli: 30_000,
    ladder: [{ name: '720p', width: 1280, height: 720, videoKbps: 2800 }, { name: '360p', width: 640, height: 360, videoKbps: 800 }],
    deadlineMs: 0,
    issuedAtMs: 0,
    ...over
  }
}

describe('worker admission: what a worker will spend on a job', () => {
  it('takes an honest job', () => {
    assert.equal(refuseJob(job()), undefined)
    assert.equal(refuseJob(job({ width: 1920, height: 1080, ladder: [{ name: '1080p', width: 1920, height: 1080, videoKbps: 5000 }] })), undefined)
  })

  it('refuses each kind of excess with a reason that names it', () => {
    const cases: Array<[Partial<JobAnnounce>, RegExp]> = [
      [{ ladder: [] }, /empty ladder/],
      [{ ladder: Array.from({ length: 6 }, (_, i) => ({ name: `r${i}`, width: 640, height: 360, videoKbps: 800 })) }, /6 rungs.*at most 5/],
      [{ size: 40 * 1024 * 1024 }, /bytes exceeds/],
      [{ durationMs: 30_000 }, /30000 ms exceeds/],
      [{ width: 0 }, /source size missing/],
      [{ fpsMilli: 1_000_000 }, /frame rate/],
      // Larger than the source: a 1080p rung of a 720p source.
      [{ ladder: [{ name: '1080p', width: 1920, height: 1080, videoKbps: 5000 }] }, /larger than the source 1280x720/],
      [{ ladder: [{ name: 'wide', width: 1282, height: 720, videoKbps: 100 }] }, /larger than the source/],
      // Within the source but over the worker's cap.
      [{ width: 4096, height: 2160, ladder: [{ name: '4k', width: 3840, height: 2160, videoKbps: 15000 }] }, /exceeds this worker's 1920x1080/],
      [{ ladder: [{ name: 'odd', width: 641, height: 360, videoKbps: 800 }] }, /not an even, positive size/],
      [{ ladder: [{ name: 'zero', width: 0, height: 360, videoKbps: 800 }] }, /not an even, positive size/],
      [{ ladder: [{ name: 'fat', width: 640, height: 360, videoKbps: 100_000 }] }, /kbps exceeds/]
    ]
    for (const [over, reason] of cases) {
      const why = refuseJob(job(over))
      assert.ok(why != null && reason.test(why), `${JSON.stringify(over).slice(0, 80)} → ${String(why)}`)
    }
  })

  it('takes its size cap from the limits', () => {
    const limits = { ...DEFAULT_JOB_LIMITS, maxWidth: 640, maxHeight: 360 }
    assert.match(refuseJob(job(), limits) ?? '', /exceeds this worker's 640x360/)
    assert.equal(refuseJob(job({ ladder: [{ name: '360p', width: 640, height: 360, videoKbps: 800 }] }), limits), undefined)
  })
})

describe('origin bookkeeping', () => {
  // Real peer ids: a stream id commits to its ingest's (streamIdFor).
  const INGEST = '12D3KooWDRKPgkPWtL5qDPPdNb52D6HMK2WXuagh2vSv3y2oeeA7'
  const EVIL = '12D3KooWR4zzXCXBNz8kzVbityJRukEAaDBzTVmS1ubgT6dE6z1G'
  const salt = (n: number): Uint8Array<ArrayBuffer> => new Uint8Array(STREAM_SALT_BYTES).fill(n)
  const ann = (n: number, updatedAtMs: number, ended = false, owner = INGEST) => ({ streamId: streamIdFor(owner, salt(n)), salt: salt(n), updatedAtMs, state: ended ? StreamAnnounce.State.ENDED : StreamAnnounce.State.LIVE })

  it('binds a stream only to the peer its id commits to, whoever announces first; others are forgeries', () => {
    const o = new StreamOrigins()
    const id = ann(1, 10).streamId
    assert.equal(o.announce(ann(1, 10), EVIL), 'streams:foreign-announce', 'a pre-announce by another peer')
    assert.equal(o.ingestOf(id), undefined)
    assert.equal(o.announce(ann(1, 10), INGEST), undefined)
    assert.equal(o.ingestOf(id), INGEST)
    assert.equal(o.announce(ann(1, 20, true), EVIL), 'streams:foreign-announce', 'a forged ENDED does not unbind')
    assert.equal(o.ingestOf(id), INGEST)
    assert.equal(o.announce(ann(1, 30, true), INGEST), undefined)
    assert.equal(o.ingestOf(id), undefined, 'ended')
  })

  it('refuses an announcement older than the one held: a replayed ENDED does not end a live stream', () => {
    const o = new StreamOrigins()
    const id = ann(1, 0).streamId
    assert.equal(o.announce(ann(1, 100, true), INGEST), undefined) // an earlier run ended
    assert.equal(o.announce(ann(1, 200), INGEST), undefined) // published again
    assert.equal(o.announce(ann(1, 100, true), INGEST), 'streams:stale-announce', 'the old signed ENDED, replayed')
    assert.equal(o.ingestOf(id), INGEST)
  })

  it('past its bound, forgets ended or stale bindings; never a live one: a flood\'s newcomers are refused', () => {
    let now = 0
    const o = new StreamOrigins(3, () => now)
    o.announce(ann(1, 1, true), INGEST) // ended
    o.announce(ann(2, 1), INGEST)
    o.announce(ann(3, 1), INGEST)
    assert.equal(o.announce(ann(4, 1, false, EVIL), EVIL), undefined, 'the ended binding made room')
    assert.equal(o.announce(ann(5, 1, false, EVIL), EVIL), 'streams:origins-full', 'every binding is live: refused')
    assert.equal(o.ingestOf(ann(2, 0).streamId), INGEST)
    now += 10_000
    o.announce(ann(2, 2), INGEST) // still announcing
    assert.equal(o.announce(ann(5, 1, false, EVIL), EVIL), undefined, 'a stale binding (3) made room')
    assert.equal(o.ingestOf(ann(3, 0).streamId), undefined)
    assert.equal(o.ingestOf(ann(2, 0).streamId), INGEST)
  })

  it('takes a transcode request only for a job we bid on, from the peer we bid to, matching the announcement', () => {
    let now = 1000
    const book = new BidBook(5000, 10, () => now)
    book.record(job(), 'ingest')
    assert.equal(book.check(job(), 'ingest'), undefined)
    assert.match(book.check(job(), 'evil') ?? '', /another peer/)
    assert.match(book.check(job({ jobId: 'other' }), 'ingest') ?? '', /no bid of ours/)
    assert.match(book.check(job({ streamId: 'stream2' }), 'ingest') ?? '', /does not match/)
    assert.match(book.check(job({ seq: 4 }), 'ingest') ?? '', /does not match/)
    now += 6000
    assert.match(book.check(job(), 'ingest') ?? '', /no bid of ours/, 'expired')
  })
})
