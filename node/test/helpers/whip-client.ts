/**
 * A WHIP client in a real Chromium: a page on its own origin (so CORS is
 * exercised) captures the fake camera and microphone with getUserMedia and
 * publishes them with WHIP (RFC 9725): POST the offer (with every candidate,
 * no trickle), set the answer, DELETE the Location to stop.
 */
import { createServer, type Server } from 'node:http'
import { chromium } from 'playwright-core'
import { CHROMIUM } from './hlsjs.js'
import type { Browser, Page } from 'playwright-core'

/** Chromium with fake capture devices, allowed to use loopback ICE candidates (the ingest is on this host). */
export async function launchBroadcaster (): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection']
  })
}

/** An empty page on 127.0.0.1 (a secure context, where getUserMedia exists). */
export async function servePage (): Promise<{ server: Server, url: string }> {
  const server = createServer((_req, res) => { res.setHeader('content-type', 'text/html'); res.end('<!doctype html><html><body>whip client</body></html>') })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  if (addr == null || typeof addr === 'string') throw new Error('no address')
  return { server, url: `http://127.0.0.1:${addr.port}/` }
}

/** Publishes the fake camera (640x360) and microphone to `whipUrl`; resolves with the status, the Location and the error text if not 201. */
export async function publish (page: Page, whipUrl: string): Promise<{ status: number, location: string | null, error: string }> {
  return await page.evaluate(async (url) => {
    const w = globalThis as any
    const media = await w.navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360, frameRate: 30 }, audio: true })
    const pc = w.__pc = new w.RTCPeerConnection()
    for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' })
    await pc.setLocalDescription(await pc.createOffer())
    // No trickle: wait (bounded) for every candidate to be in the offer.
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') { resolve(); return }
      const t = setTimeout(resolve, 5000)
      pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve() } })
    })
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp })
    const text = await res.text()
    if (res.status !== 201) return { status: res.status, location: null, error: text }
    await pc.setRemoteDescription({ type: 'answer', sdp: text })
    return { status: res.status, location: new URL(res.headers.get('location') ?? '', url).href, error: '' }
  }, whipUrl)
}

/** The browser's peer connection state. */
export async function connectionState (page: Page): Promise<string> {
  return await page.evaluate(() => (globalThis as any).__pc?.connectionState ?? 'none')
}

/** An offer from the browser (not sent), for refusal tests. */
export async function makeOffer (page: Page): Promise<string> {
  return await page.evaluate(async () => {
    const w = globalThis as any
    const media = await w.navigator.mediaDevices.getUserMedia({ video: true, audio: true })
    const pc = new w.RTCPeerConnection()
    for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' })
    const offer = await pc.createOffer()
    pc.close()
    return offer.sdp
  })
}

/** DELETE from the page (cross-origin, as a browser client does); the status. */
export async function unpublish (page: Page, location: string): Promise<number> {
  return await page.evaluate(async (loc) => {
    const res = await fetch(loc, { method: 'DELETE' })
    ;(globalThis as any).__pc?.close()
    return res.status
  }, location)
}
