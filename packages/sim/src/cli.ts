#!/usr/bin/env node
import { measure } from './measure.js'

async function main (): Promise<void> {
  const cmd = process.argv[2] ?? 'run'
  if (cmd === 'measure') {
    const m = await measure({ log: s => { process.stderr.write(`measure: ${s}\n`) } })
    process.stdout.write(JSON.stringify(m, null, 2) + '\n')
    return
  }
  throw new Error(`unknown command ${cmd}`)
}

main().catch((err) => { process.stderr.write(`sim: ${err?.stack ?? String(err)}\n`); process.exitCode = 1 })
