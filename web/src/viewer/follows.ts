/**
 * Follows, kept by the viewer in this browser (localStorage), exportable as
 * JSON and importable again: no server holds who follows whom.
 */
import { useEffect, useState } from 'preact/hooks'

export interface Follow { channel: string, since: number }

const KEY = 'diststream.follows'
/** Follows kept at most (a channel id is ~52 characters; this stays far under localStorage's quota). */
export const MAX_FOLLOWS = 500
const CHANNEL = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/

const listeners = new Set<() => void>()

export function listFollows (): Follow[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown
    return Array.isArray(v) ? v.filter((f): f is Follow => typeof f?.channel === 'string' && CHANNEL.test(f.channel)).slice(0, MAX_FOLLOWS) : []
  } catch {
    return [] // a corrupt entry: start over rather than break the page
  }
}

function save (list: Follow[]): void {
  localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX_FOLLOWS)))
  for (const l of listeners) l()
}

export function isFollowing (channel: string): boolean {
  return listFollows().some(f => f.channel === channel)
}

export function setFollowing (channel: string, on: boolean): void {
  const rest = listFollows().filter(f => f.channel !== channel)
  save(on ? [...rest, { channel, since: Date.now() }] : rest)
}

/** The follows as a JSON document to download. */
export function exportFollows (): string {
  return JSON.stringify({ kind: 'diststream-follows', version: 1, follows: listFollows() }, null, 2)
}

/** Adds the follows of an exported document; returns how many were new. Throws on a document that is not one. */
export function importFollows (text: string): number {
  const doc = JSON.parse(text) as { kind?: string, follows?: unknown }
  if (doc.kind !== 'diststream-follows' || !Array.isArray(doc.follows)) throw new Error('not a DistStream follows file')
  const have = listFollows()
  const known = new Set(have.map(f => f.channel))
  const added = doc.follows.filter((f: any): f is Follow => typeof f?.channel === 'string' && CHANNEL.test(f.channel) && !known.has(f.channel))
    .map(f => ({ channel: f.channel, since: typeof f.since === 'number' ? f.since : Date.now() }))
  save([...have, ...added])
  return added.length
}

export function useFollows (): Follow[] {
  const [list, setList] = useState(listFollows())
  useEffect(() => {
    const l = (): void => { setList(listFollows()) }
    listeners.add(l)
    window.addEventListener('storage', l)
    return () => { listeners.delete(l); window.removeEventListener('storage', l) }
  }, [])
  return list
}
