import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkPullSource, MAX_SOURCE_URL_LENGTH, parseSourceUrl, redactSourceText, redactSourceUrl, SourceUrlError } from '../src/sources.js'

describe('parseSourceUrl', () => {
  it('takes rtmp, rtmps, rtsp, http(s) and file URLs and absolute paths', () => {
    assert.deepEqual(parseSourceUrl('rtmp://203.0.113.7/live/key'), { input: 'rtmp://203.0.113.7/live/key', realtime: false })
    assert.deepEqual(parseSourceUrl('rtmps://example.com:443/app/s'), { input: 'rtmps://example.com:443/app/s', realtime: false })
    assert.deepEqual(parseSourceUrl('rtsp://cam.local:554/stream1'), { input: 'rtsp://cam.local:554/stream1', realtime: false })
    // A live HLS playlist paces itself; a plain HTTP file is read at its native rate.
    assert.deepEqual(parseSourceUrl('https://cdn.example.com/live/index.m3u8'), { input: 'https://cdn.example.com/live/index.m3u8', realtime: false })
    assert.deepEqual(parseSourceUrl('http://example.com/talk.mp4'), { input: 'http://example.com/talk.mp4', realtime: true })
    assert.deepEqual(parseSourceUrl('/media/talk.mp4'), { input: 'file:/media/talk.mp4', file: '/media/talk.mp4', realtime: true })
    assert.deepEqual(parseSourceUrl('file:///media/a%20b.mp4'), { input: 'file:/media/a b.mp4', file: '/media/a b.mp4', realtime: true })
    assert.equal(parseSourceUrl('/media/../etc/x.mp4').file, '/etc/x.mp4', 'normalised')
  })

  it('refuses other schemes, relative paths, control characters, remote file URLs and overlong input', () => {
    const bad: unknown[] = ['ftp://h/x', 'javascript:alert(1)', 'data:video/mp4;base64,AAAA', 'concat:/a|/b', 'subfile:/x', 'clip.mp4', './clip.mp4', '', 'file://evil/x.mp4',
      'rtmp://h/live\nkey', 'http://', 'rtmp:///nohost', `/${'a'.repeat(MAX_SOURCE_URL_LENGTH)}`, 42, null, '\ud800']
    for (const b of bad) assert.throws(() => parseSourceUrl(b), (err: Error) => err.name === SourceUrlError.NAME, JSON.stringify(b))
  })
})

describe('checkPullSource', () => {
  it('needs a file source to exist and be a regular file; URLs are not checked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-src-'))
    try {
      await writeFile(join(dir, 'a.mp4'), 'x')
      await checkPullSource(parseSourceUrl(join(dir, 'a.mp4')))
      await assert.rejects(checkPullSource(parseSourceUrl(join(dir, 'missing.mp4'))), { name: SourceUrlError.NAME })
      await assert.rejects(checkPullSource(parseSourceUrl(dir)), { name: SourceUrlError.NAME })
      await checkPullSource(parseSourceUrl('rtsp://127.0.0.1:1/x'))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('redactSourceUrl', () => {
  it('drops credentials, query and fragment; keeps paths', () => {
    assert.equal(redactSourceUrl('rtsp://admin:pw@cam.local:554/s1?auth=x#f'), 'rtsp://cam.local:554/s1')
    assert.equal(redactSourceUrl('/media/a.mp4'), '/media/a.mp4')
    const raw = 'rtsp://admin:pw@cam.local/s1'
    assert.equal(redactSourceText(`${raw}: Connection refused`, raw, parseSourceUrl(raw)), 'rtsp://cam.local/s1: Connection refused')
  })
})
