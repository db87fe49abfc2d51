#!/usr/bin/env -S node --max-semi-space-size=2
// A smaller young generation (2 MiB semi-spaces instead of V8's default 16)
// keeps an idle node near 111 MiB RSS instead of ~136; segment bytes live
// off-heap in Buffers, so scavenges stay cheap. Tests and the bench read the
// flags from the line above, so they run the node exactly as installed.
import '../dist/src/bin.js'
