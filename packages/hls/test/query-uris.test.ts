import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dashWithQuery, hlsWithQuery } from '../src/index.js'

test('every URI of an HLS master and media playlist carries the parameter', () => {
  const master = [
    '#EXTM3U', '#EXT-X-VERSION:7',
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio/index.m3u8"',
    '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,AUDIO="aud"', '360p/index.m3u8', ''
  ].join('\n')
  const out = hlsWithQuery(master, 'token', 'ab.c_d-')
  assert.match(out, /URI="audio\/index\.m3u8\?token=ab\.c_d-"/)
  assert.match(out, /^360p\/index\.m3u8\?token=ab\.c_d-$/m)
  assert.match(out, /^#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,AUDIO="aud"$/m, 'tags without URIs unchanged')

  const media = [
    '#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXT-X-MAP:URI="init-0a1b2c3d.mp4"', '#EXTINF:2.000,', '7.m4s',
    '#EXT-X-GAP', '#EXTINF:2.000,', '8.m4s?x=1', '#EXT-X-RENDITION-REPORT:URI="../720p/index.m3u8",LAST-MSN=8', '#EXT-X-ENDLIST', ''
  ].join('\n')
  const m = hlsWithQuery(media, 'token', 't')
  assert.deepEqual(m.split('\n').filter(l => l.includes('token=')), [
    '#EXT-X-MAP:URI="init-0a1b2c3d.mp4?token=t"', '7.m4s?token=t', '8.m4s?x=1&token=t', '#EXT-X-RENDITION-REPORT:URI="../720p/index.m3u8?token=t",LAST-MSN=8'
  ])
  assert.equal(m.split('\n').length, media.split('\n').length)
})

test('a DASH manifest\'s templates carry the parameter, XML-escaped', () => {
  const mpd = '<SegmentTemplate timescale="90000" startNumber="3" initialization="360p/init-0a1b2c3d.mp4" media="360p/$Number$.m4s">'
  assert.equal(dashWithQuery(mpd, 'token', 'x.y'), '<SegmentTemplate timescale="90000" startNumber="3" initialization="360p/init-0a1b2c3d.mp4?token=x.y" media="360p/$Number$.m4s?token=x.y">')
  assert.equal(dashWithQuery('<S media="a.m4s?k=1"/>', 'token', 't'), '<S media="a.m4s?k=1&amp;token=t"/>')
})
