import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { diffCounts, parseCounts, sumCounts } from '../bench/net100-probe.js'
import { explain, messagesPerJob } from '../bench/net100-report.js'

const METRICS = `# HELP diststream_p2p_messages_total Messages
# TYPE diststream_p2p_messages_total counter
diststream_p2p_messages_total{kind="gossip",name="/diststream/jobs/1.0.0",direction="in"} 30
diststream_p2p_messages_total{kind="gossip",name="/diststream/presence/1.0.0",direction="in"} 100
diststream_p2p_messages_total{kind="stream",name="/diststream/bid/1.0.0",direction="out"} 4
diststream_peers 5
`

describe('net100 report (pure parts)', () => {
  it('parses the counters of a /metrics text and ignores other metrics', () => {
    const c = parseCounts(METRICS)
    assert.equal(c.size, 3)
    assert.equal(c.get('gossip|/diststream/jobs/1.0.0|in'), 30)
    assert.equal(c.get('stream|/diststream/bid/1.0.0|out'), 4)
  })

  it('messages per job: the loaded window less the idle rate, over the jobs', () => {
    const idle = parseCounts(METRICS) // 100 presence copies in 10 s of idle: 10/s
    const before = new Map([['gossip|/diststream/presence/1.0.0|in', 1000], ['gossip|/diststream/jobs/1.0.0|in', 0]])
    const after = new Map([['gossip|/diststream/presence/1.0.0|in', 1250], ['gossip|/diststream/jobs/1.0.0|in', 200]])
    const load = sumCounts([diffCounts(before, after), diffCounts(before, after)]) // two nodes alike
    const per = messagesPerJob(idle, load, 10, 20, 10)
    const jobsRow = per.find(p => p.name === '/diststream/jobs/1.0.0')!
    // 400 jobs copies in the window, the idle rate 3/s × 20 s = 60 → 340 ÷ 10 jobs
    assert.equal(jobsRow.inPerJob, 34)
    const presence = per.find(p => p.name === '/diststream/presence/1.0.0')!
    assert.equal(presence.inPerJob, (500 - 200) / 10)
    assert.equal(presence.idleInPerSec, 10)
  })

  it('explains a dispatch far above the model by the window and the load', () => {
    const lines = explain({ dispatchP95: 300, simP95: 20, windowClosed: 5, pastWindow: 1, n: 20, simWindowClosed: 0, load: 9, cores: 2, nodes: 100, gossip: 200, simGossip: 100, simTopic: 40, jobsTopicNodes: 41, nonWorkerOnJobs: ['bootstrap'], bids: 8, simBids: 8, transcode: 2, presenceIn: 3, simPresence: 300, netCpuPerCopy: 2, cpuPerCopy: 0.5 })
    assert.match(lines[0]!, /15\.00× the model's\. 5 of 20 real auctions closed on the bid window.*1 went on past the window/)
    assert.match(lines[1]!, /1 non-worker node\(s\) received jobs copies \(bootstrap/)
    assert.ok(lines.some(l => l.includes('presence copies in per worker: 3.0/s measured against 300.0/s')))
  })
})
