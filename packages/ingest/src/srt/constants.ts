/** SRT in (srt/relay.ts): limits and timeouts, each with its reason. */

/** SRT publishers at once: each holds an ffmpeg listener (the publish's segmenter), a few % of a core. */
export const MAX_SRT_PUBLISHERS = 16
/** Refused callers remembered, so a caller's retransmitted conclusions (every 250 ms) are not counted again. */
export const MAX_SRT_REJECTED_REMEMBERED = 1024
/** How long a refusal is remembered for its caller's address (ms): longer than a caller's 3 s connect timeout. */
export const SRT_REJECTION_MEMORY_MS = 5000
/** A caller that sends nothing this long is dropped (ms): SRT sends keep-alives every second. */
export const SRT_IDLE_MS = 10_000
/** The relay asks ffmpeg's new listener this often whether it is up (ms). */
export const SRT_LISTENER_POLL_MS = 50
/** How long ffmpeg's listener has to come up (ms): under a caller's 3 s connect timeout, which keeps retransmitting its conclusion. */
export const SRT_LISTENER_WAIT_MS = 2500
/** ffmpeg's read timeout on an SRT publish (ms): the publish is over this long after the caller's last packet. */
export const SRT_READ_TIMEOUT_MS = 3000
