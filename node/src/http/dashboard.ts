/**
 * A minimal status page until the dashboard of web/ lands (see web/README.md):
 * it reads the same JSON API the dashboard will.
 */
export const dashboardHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DistStream node</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#111}
code,pre{background:#f3f3f3;padding:.1rem .3rem;border-radius:4px}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}</style></head>
<body><h1>DistStream node</h1><p id="me">loading…</p><h2>Peers</h2><table id="peers"></table>
<h2>Streams</h2><ul id="streams"></ul>
<script>
const esc = s => String(s).replace(/[&<>"']/g, c => '&#' + c.charCodeAt(0) + ';')
async function load(){
  const n = await (await fetch('/api/node')).json()
  document.getElementById('me').innerHTML = '<code>' + n.peerId + '</code> · roles: ' + n.roles.join(', ') + ' · up ' + n.uptimeSec + ' s'
  document.getElementById('peers').innerHTML = '<tr><th>peer</th><th>roles</th><th>jobs</th></tr>' +
    n.peers.map(p => '<tr><td><code>' + p.peerId.slice(-12) + '</code></td><td>' + esc(p.roles.join(', ')) + '</td><td>' + p.activeJobs + '/' + p.maxJobs + '</td></tr>').join('')
  if (n.roles.includes('ingest')) {
    const s = await (await fetch('/api/streams')).json()
    document.getElementById('streams').innerHTML = s.map(x => '<li>' + esc(x.name) + ' (' + esc(x.state) + ') <a href="' + esc(x.playbackUrl) + '">' + esc(x.playbackUrl) + '</a></li>').join('')
  }
}
load(); setInterval(load, 3000)
</script></body></html>`
