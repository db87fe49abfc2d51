/**
 * Homes behind a NAT, built on this one machine with Linux network
 * namespaces (the NAT test; CI runs as root). Each home is two namespaces:
 *
 *   root ns (the public side)  10.77.<k>.1 ── veth ── 10.77.<k>.2  router ns
 *   router ns                 192.168.<k>.1 ── veth ── 192.168.<k>.2  home ns
 *
 * The router forwards and masquerades the home's outbound traffic (iptables
 * MASQUERADE), lets in only the answers to it (conntrack ESTABLISHED), and
 * the public side has no route to 192.168.<k>.0/24: nothing reaches a home
 * host unless the host called out first, as behind a real home router.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)
/** One `ip`/`iptables` command's bound (they answer in milliseconds). */
const CMD_TIMEOUT_MS = 10_000

async function sh (cmd: string, args: string[]): Promise<void> {
  await run(cmd, args, { timeout: CMD_TIMEOUT_MS })
}

async function inNs (ns: string, cmd: string, args: string[]): Promise<void> {
  await sh('ip', ['netns', 'exec', ns, cmd, ...args])
}

export interface NatHome {
  /** The namespace a home host's processes run in. */
  ns: string
  /** The home host's (private) address. */
  hostAddr: string
  /** The public side's address on this home's link (where the home reaches the public nodes). */
  publicAddr: string
}

/** Why namespaces cannot be made here (not root, no `ip` or `iptables`), or undefined when they can. */
export async function netnsUnavailable (): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root: ip netns needs CAP_SYS_ADMIN'
  try {
    await sh('ip', ['-V'])
    await sh('iptables', ['--version'])
  } catch (err) {
    return `ip or iptables missing: ${(err as Error).message}`
  }
  return undefined
}

/**
 * Builds homes behind NATs, numbered `k` (1..50). Names carry this process's
 * pid, so two runs never share one; `destroy` removes all it made (deleting
 * a namespace deletes its veths).
 */
export class NatLab {
  readonly #made: string[] = []
  readonly #tag = `ds${process.pid % 100_000}`

  async home (k: number): Promise<NatHome> {
    if (!Number.isInteger(k) || k < 1 || k > 50) throw new RangeError(`home number 1..50, got ${k}`)
    const router = `${this.#tag}r${k}`
    const ns = `${this.#tag}h${k}`
    const wanRoot = `${this.#tag}w${k}a`
    const wanRouter = `${this.#tag}w${k}b`
    const lanRouter = `${this.#tag}l${k}a`
    const lanHome = `${this.#tag}l${k}b`
    const pub = `10.77.${k}.1`
    const wan = `10.77.${k}.2`
    const gw = `192.168.${k}.1`
    const host = `192.168.${k}.2`
    for (const n of [router, ns]) {
      await sh('ip', ['netns', 'add', n])
      this.#made.push(n)
      await inNs(n, 'ip', ['link', 'set', 'lo', 'up'])
    }
    // The public link: root ns ↔ router.
    await sh('ip', ['link', 'add', wanRoot, 'type', 'veth', 'peer', 'name', wanRouter])
    await sh('ip', ['link', 'set', wanRouter, 'netns', router])
    await sh('ip', ['addr', 'add', `${pub}/24`, 'dev', wanRoot])
    await sh('ip', ['link', 'set', wanRoot, 'up'])
    await inNs(router, 'ip', ['addr', 'add', `${wan}/24`, 'dev', wanRouter])
    await inNs(router, 'ip', ['link', 'set', wanRouter, 'up'])
    await inNs(router, 'ip', ['route', 'add', 'default', 'via', pub])
    // The home link: router ↔ home host.
    await inNs(router, 'ip', ['link', 'add', lanRouter, 'type', 'veth', 'peer', 'name', lanHome])
    await inNs(router, 'ip', ['link', 'set', lanHome, 'netns', ns])
    await inNs(router, 'ip', ['addr', 'add', `${gw}/24`, 'dev', lanRouter])
    await inNs(router, 'ip', ['link', 'set', lanRouter, 'up'])
    await inNs(ns, 'ip', ['addr', 'add', `${host}/24`, 'dev', lanHome])
    await inNs(ns, 'ip', ['link', 'set', lanHome, 'up'])
    await inNs(ns, 'ip', ['route', 'add', 'default', 'via', gw])
    // The router: forward, masquerade outbound, let in only answers.
    await inNs(router, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'])
    await inNs(router, 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', wanRouter, '-j', 'MASQUERADE'])
    await inNs(router, 'iptables', ['-A', 'FORWARD', '-i', wanRouter, '-o', lanRouter, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'])
    await inNs(router, 'iptables', ['-A', 'FORWARD', '-i', wanRouter, '-j', 'DROP'])
    return { ns, hostAddr: host, publicAddr: pub }
  }

  /** Runs a command inside a namespace and returns its stdout (bounded in time). */
  async exec (ns: string, cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 })
    return stdout
  }

  async destroy (): Promise<void> {
    for (const n of this.#made.splice(0).reverse()) {
      await sh('ip', ['netns', 'del', n]).catch(() => undefined) // gone already: nothing left to remove
    }
  }
}
