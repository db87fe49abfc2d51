import assert from 'node:assert/strict'
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { checkSourcePolicy, classifyAddress, protocolWhitelist, SourceRefusedError, systemPolicyIo } from '../src/source-policy.js'
import { parseSourceUrl } from '../src/sources.js'
import type { PolicyIo } from '../src/source-policy.js'

/** A fake resolver (no network here): host → addresses. */
const io = (hosts: Record<string, string[]>): PolicyIo => ({
  lookup: async (h) => { const a = hosts[h]; if (a == null) throw new Error('ENOTFOUND'); return a },
  realpath: systemPolicyIo.realpath
})
const refusedWith = (why: string) => (err: Error): boolean => err instanceof SourceRefusedError && err.why === why

describe('source policy (review M4)', () => {
  it('classifies addresses: metadata, private (v4, v6, mapped, NAT64), public', () => {
    for (const a of ['169.254.169.254', '::ffff:169.254.169.254', 'fd00:ec2::254', '100.100.100.200']) assert.equal(classifyAddress(a), 'metadata', a)
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.20', '169.254.1.1', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fc00::1', 'fd12::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::10.0.0.1', '224.0.0.1', '255.255.255.255']) {
      assert.equal(classifyAddress(a), 'private', a)
    }
    for (const a of ['8.8.8.8', '172.32.0.1', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(classifyAddress(a), 'public', a)
  })

  it('gives ffmpeg only the protocols of the scheme', () => {
    assert.equal(protocolWhitelist(parseSourceUrl('rtmp://h/live/k')), 'rtmp,tcp')
    assert.equal(protocolWhitelist(parseSourceUrl('rtsp://h/cam')), 'rtsp,rtp,udp,tcp')
    assert.equal(protocolWhitelist(parseSourceUrl('https://h/a.m3u8')), 'http,https,tcp,tls,crypto')
    assert.equal(protocolWhitelist(parseSourceUrl('/media/a.mp4')), 'file')
  })

  it('refuses private hosts unless allowed, metadata always, unresolvable hosts', async () => {
    const hosts = io({ 'cam.lan': ['192.168.1.20'], 'cdn.example': ['93.184.216.34'], 'rebind.example': ['93.184.216.34', '127.0.0.1'], 'meta.example': ['169.254.169.254'] })
    await checkSourcePolicy(parseSourceUrl('https://cdn.example/a.m3u8'), {}, hosts)
    await assert.rejects(checkSourcePolicy(parseSourceUrl('rtsp://cam.lan/s'), {}, hosts), refusedWith('private'))
    await checkSourcePolicy(parseSourceUrl('rtsp://cam.lan/s'), { allowPrivate: true }, hosts)
    await assert.rejects(checkSourcePolicy(parseSourceUrl('http://rebind.example/x.mp4'), {}, hosts), refusedWith('private'), 'any private address of the host')
    await assert.rejects(checkSourcePolicy(parseSourceUrl('http://[::1]:8080/x.mp4'), {}, hosts), refusedWith('private'))
    for (const u of ['http://169.254.169.254/latest/meta-data/', 'http://meta.example/', 'http://[::ffff:a9fe:a9fe]/']) {
      await assert.rejects(checkSourcePolicy(parseSourceUrl(u), { allowPrivate: true }, hosts), refusedWith('metadata'), u)
    }
    await assert.rejects(checkSourcePolicy(parseSourceUrl('rtmp://nowhere.example/live/k'), { allowPrivate: true }, hosts), refusedWith('resolve'))
  })

  it('takes file sources only under the allowed directory, symlinks followed', async () => {
    const root = await realpath(await mkdtemp(join(tmpdir(), 'ds-policy-')))
    try {
      const allowed = join(root, 'media')
      await mkdir(allowed)
      await writeFile(join(allowed, 'a.mp4'), 'x')
      await writeFile(join(root, 'secret.txt'), 'x')
      await symlink(join(root, 'secret.txt'), join(allowed, 'link.txt'))
      const fs = io({})
      await assert.rejects(checkSourcePolicy(parseSourceUrl(join(allowed, 'a.mp4')), {}, fs), refusedWith('file'), 'off by default')
      await checkSourcePolicy(parseSourceUrl(join(allowed, 'a.mp4')), { allowFileDir: allowed }, fs)
      await checkSourcePolicy(parseSourceUrl(`file://${allowed}/a.mp4`), { allowFileDir: allowed + '/' }, fs)
      for (const p of [join(root, 'secret.txt'), join(allowed, 'link.txt'), join(allowed, '..', 'secret.txt'), '/etc/passwd', `${allowed}-other/a.mp4`]) {
        await assert.rejects(checkSourcePolicy(parseSourceUrl(p), { allowFileDir: allowed }, fs), refusedWith('file'), p)
      }
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
