/**
 * What a pulled source may reach (security review M4): which ffmpeg protocols per scheme, file
 * sources only under an allowed directory, and no private, loopback or link-local hosts unless
 * the operator allows them. The address checks are pure; {@link checkSourcePolicy} takes the
 * resolver and the file-system lookups as arguments so it is tested without a network.
 */
import { lookup } from 'node:dns/promises'
import { realpath } from 'node:fs/promises'
import { BlockList, isIP } from 'node:net'
import { sep } from 'node:path'
import { SourceUrlError } from './errors.js'
import type { PullSource } from './sources.js'

/** How long resolving a source's host may take (ms): an honest resolver answers in well under a second. */
export const SOURCE_RESOLVE_TIMEOUT_MS = 5000

/** Why a source was refused (the `why` of `diststream_ingest_sources_refused_total`). */
export type SourceRefusalWhy = 'syntax' | 'file' | 'private' | 'metadata' | 'resolve'

/** What the operator allows (`--allow-file-source`, `--allow-private-sources`). */
export interface SourcePolicy {
  /** File sources must resolve (symlinks followed) to a path under this directory; none: file sources are refused. */
  allowFileDir?: string
  /** Hosts on loopback, private, link-local and other non-public addresses may be pulled (a camera on the LAN). */
  allowPrivate?: boolean
}

/** A refused source: the message is fit for an HTTP 400. */
export class SourceRefusedError extends SourceUrlError {
  constructor (message: string, readonly why: SourceRefusalWhy) { super(message) }
}

/**
 * ffmpeg's `-protocol_whitelist` for a source: only what its scheme needs, so a playlist or a
 * redirect cannot make ffmpeg open a local file, a `concat:`, `subfile:` or another protocol.
 */
export function protocolWhitelist (src: PullSource): string {
  if (src.file != null) return 'file'
  const scheme = new URL(src.input).protocol.replace(/:$/, '')
  switch (scheme) {
    case 'rtmp': return 'rtmp,tcp'
    case 'rtmps': return 'rtmps,tcp,tls'
    // RTSP carries media over RTP, on UDP or interleaved on the TCP connection.
    case 'rtsp': return 'rtsp,rtp,udp,tcp'
    // An HLS playlist names http(s) segments; AES-128 segments are read through `crypto`.
    default: return 'http,https,tcp,tls,crypto'
  }
}

/** Cloud metadata services: refused even with `allowPrivate` (no camera lives there; their answers hold credentials). */
const METADATA = new BlockList()
METADATA.addAddress('169.254.169.254') // AWS, GCP, Azure, OpenStack, DigitalOcean...
METADATA.addAddress('169.254.170.2') // AWS ECS task metadata
METADATA.addAddress('100.100.100.200') // Alibaba Cloud
METADATA.addAddress('fd00:ec2::254', 'ipv6') // AWS IMDS over IPv6

/** Addresses that are not on the public Internet (RFC 6890 special-purpose and multicast ranges). */
const NON_PUBLIC = new BlockList()
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv4')
}
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64]] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv6')
}

/** The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) IPv6 address. */
function embeddedIpv4 (ip: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:0{1,4}:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (m != null) return m[1]
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip)
  if (hex == null) return undefined
  const a = parseInt(hex[1]!, 16)
  const b = parseInt(hex[2]!, 16)
  return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`
}

/** `metadata` (always refused), `private` (refused unless allowed) or `public`. */
export function classifyAddress (ip: string): 'metadata' | 'private' | 'public' {
  const v4 = isIP(ip) === 6 ? embeddedIpv4(ip) : ip
  const [addr, type] = v4 != null ? [v4, 'ipv4' as const] : [ip, 'ipv6' as const]
  if (METADATA.check(addr, type)) return 'metadata'
  return NON_PUBLIC.check(addr, type) ? 'private' : 'public'
}

/** What {@link checkSourcePolicy} needs from the outside world. */
export interface PolicyIo {
  /** Every address `host` resolves to (dns.lookup with `all`). */
  lookup: (host: string) => Promise<string[]>
  /** The real path (symlinks resolved), or undefined if it does not exist. */
  realpath: (path: string) => Promise<string | undefined>
}

/** The real resolver and file system. */
export const systemPolicyIo: PolicyIo = {
  lookup: async (host) => (await lookup(host, { all: true, verbatim: true })).map(a => a.address),
  realpath: async (path) => await realpath(path).catch(() => undefined)
}

/**
 * Refuses (with {@link SourceRefusedError}) a source the policy does not allow: a file outside
 * `allowFileDir` (after following symlinks), a host resolving to a cloud metadata address, or to
 * any non-public address without `allowPrivate`, or a host that does not resolve in time.
 */
export async function checkSourcePolicy (src: PullSource, policy: SourcePolicy, io: PolicyIo): Promise<void> {
  if (src.file != null) {
    if (policy.allowFileDir == null) throw new SourceRefusedError('file sources are off on this node (the operator enables them with --allow-file-source <dir>)', 'file')
    const dir = await io.realpath(policy.allowFileDir)
    const real = await io.realpath(src.file)
    if (dir == null) throw new SourceRefusedError('file sources are off on this node: the --allow-file-source directory does not exist', 'file')
    if (real == null) throw new SourceRefusedError(`source file ${src.file} does not exist`, 'file')
    if (!real.startsWith(dir.endsWith(sep) ? dir : dir + sep)) throw new SourceRefusedError(`source file ${src.file} is outside the directory file sources may come from`, 'file')
    return
  }
  const host = new URL(src.input).hostname.replace(/^\[|\]$/g, '')
  let addrs: string[]
  if (isIP(host) !== 0) {
    addrs = [host]
  } else {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('timed out')) }, SOURCE_RESOLVE_TIMEOUT_MS) })
    try {
      addrs = await Promise.race([io.lookup(host), timeout])
    } catch (err) {
      throw new SourceRefusedError(`cannot resolve the source host ${host}: ${(err as Error).message}`, 'resolve')
    } finally {
      clearTimeout(timer)
    }
    if (addrs.length === 0) throw new SourceRefusedError(`cannot resolve the source host ${host}`, 'resolve')
  }
  for (const a of addrs) {
    const kind = classifyAddress(a)
    if (kind === 'metadata') throw new SourceRefusedError(`source host ${host} is a cloud metadata address (${a}): never pulled`, 'metadata')
    if (kind === 'private' && policy.allowPrivate !== true) {
      throw new SourceRefusedError(`source host ${host} is on a private, loopback or link-local address (${a}); the operator allows such sources with --allow-private-sources`, 'private')
    }
  }
}
