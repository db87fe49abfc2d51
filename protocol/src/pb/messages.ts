import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Rung {
  name: string
  width: number
  height: number
  videoKbps: number
}

export namespace Rung {
  let _codec: Codec<Rung>

  export const codec = (): Codec<Rung> => {
    if (_codec == null) {
      _codec = message<Rung>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.width != null && obj.width !== 0)) {
          w.uint32(16)
          w.uint32(obj.width)
        }

        if ((obj.height != null && obj.height !== 0)) {
          w.uint32(24)
          w.uint32(obj.height)
        }

        if ((obj.videoKbps != null && obj.videoKbps !== 0)) {
          w.uint32(32)
          w.uint32(obj.videoKbps)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          width: 0,
          height: 0,
          videoKbps: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.width = reader.uint32()
              break
            }
            case 3: {
              obj.height = reader.uint32()
              break
            }
            case 4: {
              obj.videoKbps = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.width`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.height`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.videoKbps`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RungNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface RungWidthFieldEvent {
    field: '$.width'
    value: number
  }

  export interface RungHeightFieldEvent {
    field: '$.height'
    value: number
  }

  export interface RungVideoKbpsFieldEvent {
    field: '$.videoKbps'
    value: number
  }

  export function encode (obj: Partial<Rung>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Rung.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Rung>): Rung {
    return decodeMessage(buf, Rung.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Rung>): Generator<RungNameFieldEvent | RungWidthFieldEvent | RungHeightFieldEvent | RungVideoKbpsFieldEvent> {
    return streamMessage(buf, Rung.codec(), opts)
  }
}

export interface Rendition {
  name: string
  width: number
  height: number
  bandwidth: number
  codecs: string
  size: number
  sha256: Uint8Array<ArrayBuffer>
  initSize?: number
  initSha256?: Uint8Array<ArrayBuffer>
}

export namespace Rendition {
  let _codec: Codec<Rendition>

  export const codec = (): Codec<Rendition> => {
    if (_codec == null) {
      _codec = message<Rendition>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.width != null && obj.width !== 0)) {
          w.uint32(16)
          w.uint32(obj.width)
        }

        if ((obj.height != null && obj.height !== 0)) {
          w.uint32(24)
          w.uint32(obj.height)
        }

        if ((obj.bandwidth != null && obj.bandwidth !== 0)) {
          w.uint32(32)
          w.uint32(obj.bandwidth)
        }

        if ((obj.codecs != null && obj.codecs !== '')) {
          w.uint32(42)
          w.string(obj.codecs)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.size)
        }

        if ((obj.sha256 != null && obj.sha256.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.sha256)
        }

        if (obj.initSize != null) {
          w.uint32(64)
          w.uint32(obj.initSize)
        }

        if (obj.initSha256 != null) {
          w.uint32(74)
          w.bytes(obj.initSha256)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          width: 0,
          height: 0,
          bandwidth: 0,
          codecs: '',
          size: 0,
          sha256: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.width = reader.uint32()
              break
            }
            case 3: {
              obj.height = reader.uint32()
              break
            }
            case 4: {
              obj.bandwidth = reader.uint32()
              break
            }
            case 5: {
              obj.codecs = reader.string()
              break
            }
            case 6: {
              obj.size = reader.uint64Number()
              break
            }
            case 7: {
              obj.sha256 = reader.bytes()
              break
            }
            case 8: {
              obj.initSize = reader.uint32()
              break
            }
            case 9: {
              obj.initSha256 = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.width`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.height`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.bandwidth`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.codecs`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.sha256`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.initSize`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.initSha256`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RenditionNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface RenditionWidthFieldEvent {
    field: '$.width'
    value: number
  }

  export interface RenditionHeightFieldEvent {
    field: '$.height'
    value: number
  }

  export interface RenditionBandwidthFieldEvent {
    field: '$.bandwidth'
    value: number
  }

  export interface RenditionCodecsFieldEvent {
    field: '$.codecs'
    value: string
  }

  export interface RenditionSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface RenditionSha256FieldEvent {
    field: '$.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RenditionInitSizeFieldEvent {
    field: '$.initSize'
    value: number
  }

  export interface RenditionInitSha256FieldEvent {
    field: '$.initSha256'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Rendition>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Rendition.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Rendition>): Rendition {
    return decodeMessage(buf, Rendition.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Rendition>): Generator<RenditionNameFieldEvent | RenditionWidthFieldEvent | RenditionHeightFieldEvent | RenditionBandwidthFieldEvent | RenditionCodecsFieldEvent | RenditionSizeFieldEvent | RenditionSha256FieldEvent | RenditionInitSizeFieldEvent | RenditionInitSha256FieldEvent> {
    return streamMessage(buf, Rendition.codec(), opts)
  }
}

export interface Presence {
  roles: string[]
  multiaddrs: Uint8Array<ArrayBuffer>[]
  httpUrl: string
  activeJobs: number
  maxJobs: number
  gpu: boolean
  hwKind: string
  agent: string
  startedAtMs: number
}

export namespace Presence {
  let _codec: Codec<Presence>

  export const codec = (): Codec<Presence> => {
    if (_codec == null) {
      _codec = message<Presence>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.roles != null && obj.roles.length > 0) {
          for (const value of obj.roles) {
            w.uint32(10)
            w.string(value)
          }
        }

        if (obj.multiaddrs != null && obj.multiaddrs.length > 0) {
          for (const value of obj.multiaddrs) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if ((obj.httpUrl != null && obj.httpUrl !== '')) {
          w.uint32(26)
          w.string(obj.httpUrl)
        }

        if ((obj.activeJobs != null && obj.activeJobs !== 0)) {
          w.uint32(32)
          w.uint32(obj.activeJobs)
        }

        if ((obj.maxJobs != null && obj.maxJobs !== 0)) {
          w.uint32(40)
          w.uint32(obj.maxJobs)
        }

        if ((obj.gpu != null && obj.gpu !== false)) {
          w.uint32(48)
          w.bool(obj.gpu)
        }

        if ((obj.hwKind != null && obj.hwKind !== '')) {
          w.uint32(58)
          w.string(obj.hwKind)
        }

        if ((obj.agent != null && obj.agent !== '')) {
          w.uint32(66)
          w.string(obj.agent)
        }

        if ((obj.startedAtMs != null && obj.startedAtMs !== 0)) {
          w.uint32(72)
          w.uint64Number(obj.startedAtMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          roles: [],
          multiaddrs: [],
          httpUrl: '',
          activeJobs: 0,
          maxJobs: 0,
          gpu: false,
          hwKind: '',
          agent: '',
          startedAtMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.roles != null && obj.roles.length === opts.limits.roles) {
                throw new MaxLengthError('Decode error - repeated field "roles" had too many elements')
              }

              obj.roles.push(reader.string())
              break
            }
            case 2: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs.length === opts.limits.multiaddrs) {
                throw new MaxLengthError('Decode error - repeated field "multiaddrs" had too many elements')
              }

              obj.multiaddrs.push(reader.bytes())
              break
            }
            case 3: {
              obj.httpUrl = reader.string()
              break
            }
            case 4: {
              obj.activeJobs = reader.uint32()
              break
            }
            case 5: {
              obj.maxJobs = reader.uint32()
              break
            }
            case 6: {
              obj.gpu = reader.bool()
              break
            }
            case 7: {
              obj.hwKind = reader.string()
              break
            }
            case 8: {
              obj.agent = reader.string()
              break
            }
            case 9: {
              obj.startedAtMs = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          roles: 0,
          multiaddrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.roles != null && obj.roles === opts.limits.roles) {
                throw new MaxLengthError('Streaming decode error - repeated field "roles" had too many elements')
              }

              yield {
                field: `${prefix}.roles[]`,
                index: obj.roles,
                value: reader.string()
              }

              obj.roles++

              break
            }
            case 2: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs === opts.limits.multiaddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "multiaddrs" had too many elements')
              }

              yield {
                field: `${prefix}.multiaddrs[]`,
                index: obj.multiaddrs,
                value: reader.bytes()
              }

              obj.multiaddrs++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.httpUrl`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.activeJobs`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.maxJobs`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.gpu`,
                value: reader.bool()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.hwKind`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.agent`,
                value: reader.string()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.startedAtMs`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PresenceRolesFieldEvent {
    field: '$.roles[]'
    index: number
    value: string
  }

  export interface PresenceMultiaddrsFieldEvent {
    field: '$.multiaddrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface PresenceHttpUrlFieldEvent {
    field: '$.httpUrl'
    value: string
  }

  export interface PresenceActiveJobsFieldEvent {
    field: '$.activeJobs'
    value: number
  }

  export interface PresenceMaxJobsFieldEvent {
    field: '$.maxJobs'
    value: number
  }

  export interface PresenceGpuFieldEvent {
    field: '$.gpu'
    value: boolean
  }

  export interface PresenceHwKindFieldEvent {
    field: '$.hwKind'
    value: string
  }

  export interface PresenceAgentFieldEvent {
    field: '$.agent'
    value: string
  }

  export interface PresenceStartedAtMsFieldEvent {
    field: '$.startedAtMs'
    value: number
  }

  export function encode (obj: Partial<Presence>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Presence.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Presence>): Presence {
    return decodeMessage(buf, Presence.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Presence>): Generator<PresenceRolesFieldEvent | PresenceMultiaddrsFieldEvent | PresenceHttpUrlFieldEvent | PresenceActiveJobsFieldEvent | PresenceMaxJobsFieldEvent | PresenceGpuFieldEvent | PresenceHwKindFieldEvent | PresenceAgentFieldEvent | PresenceStartedAtMsFieldEvent> {
    return streamMessage(buf, Presence.codec(), opts)
  }
}

export interface JobAnnounce {
  jobId: string
  streamId: string
  seq: number
  durationMs: number
  size: number
  width: number
  height: number
  videoCodec: string
  audioCodec: string
  fpsMilli: number
  ladder: Rung[]
  deadlineMs: number
  issuedAtMs: number
  container?: string
}

export namespace JobAnnounce {
  let _codec: Codec<JobAnnounce>

  export const codec = (): Codec<JobAnnounce> => {
    if (_codec == null) {
      _codec = message<JobAnnounce>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(10)
          w.string(obj.jobId)
        }

        if ((obj.streamId != null && obj.streamId !== '')) {
          w.uint32(18)
          w.string(obj.streamId)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.seq)
        }

        if ((obj.durationMs != null && obj.durationMs !== 0)) {
          w.uint32(32)
          w.uint32(obj.durationMs)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.size)
        }

        if ((obj.width != null && obj.width !== 0)) {
          w.uint32(48)
          w.uint32(obj.width)
        }

        if ((obj.height != null && obj.height !== 0)) {
          w.uint32(56)
          w.uint32(obj.height)
        }

        if ((obj.videoCodec != null && obj.videoCodec !== '')) {
          w.uint32(66)
          w.string(obj.videoCodec)
        }

        if ((obj.audioCodec != null && obj.audioCodec !== '')) {
          w.uint32(74)
          w.string(obj.audioCodec)
        }

        if ((obj.fpsMilli != null && obj.fpsMilli !== 0)) {
          w.uint32(80)
          w.uint32(obj.fpsMilli)
        }

        if (obj.ladder != null && obj.ladder.length > 0) {
          for (const value of obj.ladder) {
            w.uint32(90)
            Rung.codec().encode(value, w)
          }
        }

        if ((obj.deadlineMs != null && obj.deadlineMs !== 0)) {
          w.uint32(96)
          w.uint64Number(obj.deadlineMs)
        }

        if ((obj.issuedAtMs != null && obj.issuedAtMs !== 0)) {
          w.uint32(104)
          w.uint64Number(obj.issuedAtMs)
        }

        if (obj.container != null) {
          w.uint32(114)
          w.string(obj.container)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: '',
          streamId: '',
          seq: 0,
          durationMs: 0,
          size: 0,
          width: 0,
          height: 0,
          videoCodec: '',
          audioCodec: '',
          fpsMilli: 0,
          ladder: [],
          deadlineMs: 0,
          issuedAtMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.jobId = reader.string()
              break
            }
            case 2: {
              obj.streamId = reader.string()
              break
            }
            case 3: {
              obj.seq = reader.uint64Number()
              break
            }
            case 4: {
              obj.durationMs = reader.uint32()
              break
            }
            case 5: {
              obj.size = reader.uint64Number()
              break
            }
            case 6: {
              obj.width = reader.uint32()
              break
            }
            case 7: {
              obj.height = reader.uint32()
              break
            }
            case 8: {
              obj.videoCodec = reader.string()
              break
            }
            case 9: {
              obj.audioCodec = reader.string()
              break
            }
            case 10: {
              obj.fpsMilli = reader.uint32()
              break
            }
            case 11: {
              if (opts.limits?.ladder != null && obj.ladder.length === opts.limits.ladder) {
                throw new MaxLengthError('Decode error - repeated field "ladder" had too many elements')
              }

              obj.ladder.push(Rung.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ladder$
              }))
              break
            }
            case 12: {
              obj.deadlineMs = reader.uint64Number()
              break
            }
            case 13: {
              obj.issuedAtMs = reader.uint64Number()
              break
            }
            case 14: {
              obj.container = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          ladder: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.streamId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.durationMs`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.width`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.height`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.videoCodec`,
                value: reader.string()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.audioCodec`,
                value: reader.string()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.fpsMilli`,
                value: reader.uint32()
              }
              break
            }
            case 11: {
              if (opts.limits?.ladder != null && obj.ladder === opts.limits.ladder) {
                throw new MaxLengthError('Streaming decode error - repeated field "ladder" had too many elements')
              }

              for (const evt of Rung.codec().stream(reader, reader.uint32(), `${prefix}.ladder[]`, {
                limits: opts.limits?.ladder$
              })) {
                yield {
                  ...evt,
                  index: obj.ladder
                }
              }

              obj.ladder++

              break
            }
            case 12: {
              yield {
                field: `${prefix}.deadlineMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.issuedAtMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 14: {
              yield {
                field: `${prefix}.container`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface JobAnnounceJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface JobAnnounceStreamIdFieldEvent {
    field: '$.streamId'
    value: string
  }

  export interface JobAnnounceSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface JobAnnounceDurationMsFieldEvent {
    field: '$.durationMs'
    value: number
  }

  export interface JobAnnounceSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface JobAnnounceWidthFieldEvent {
    field: '$.width'
    value: number
  }

  export interface JobAnnounceHeightFieldEvent {
    field: '$.height'
    value: number
  }

  export interface JobAnnounceVideoCodecFieldEvent {
    field: '$.videoCodec'
    value: string
  }

  export interface JobAnnounceAudioCodecFieldEvent {
    field: '$.audioCodec'
    value: string
  }

  export interface JobAnnounceFpsMilliFieldEvent {
    field: '$.fpsMilli'
    value: number
  }

  export interface JobAnnounceLadderNameFieldEvent {
    field: '$.ladder[].name'
    value: string
    index: number
  }

  export interface JobAnnounceLadderWidthFieldEvent {
    field: '$.ladder[].width'
    value: number
    index: number
  }

  export interface JobAnnounceLadderHeightFieldEvent {
    field: '$.ladder[].height'
    value: number
    index: number
  }

  export interface JobAnnounceLadderVideoKbpsFieldEvent {
    field: '$.ladder[].videoKbps'
    value: number
    index: number
  }

  export interface JobAnnounceDeadlineMsFieldEvent {
    field: '$.deadlineMs'
    value: number
  }

  export interface JobAnnounceIssuedAtMsFieldEvent {
    field: '$.issuedAtMs'
    value: number
  }

  export interface JobAnnounceContainerFieldEvent {
    field: '$.container'
    value: string
  }

  export function encode (obj: Partial<JobAnnounce>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobAnnounce.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobAnnounce>): JobAnnounce {
    return decodeMessage(buf, JobAnnounce.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobAnnounce>): Generator<JobAnnounceJobIdFieldEvent | JobAnnounceStreamIdFieldEvent | JobAnnounceSeqFieldEvent | JobAnnounceDurationMsFieldEvent | JobAnnounceSizeFieldEvent | JobAnnounceWidthFieldEvent | JobAnnounceHeightFieldEvent | JobAnnounceVideoCodecFieldEvent | JobAnnounceAudioCodecFieldEvent | JobAnnounceFpsMilliFieldEvent | JobAnnounceLadderNameFieldEvent | JobAnnounceLadderWidthFieldEvent | JobAnnounceLadderHeightFieldEvent | JobAnnounceLadderVideoKbpsFieldEvent | JobAnnounceDeadlineMsFieldEvent | JobAnnounceIssuedAtMsFieldEvent | JobAnnounceContainerFieldEvent> {
    return streamMessage(buf, JobAnnounce.codec(), opts)
  }
}

export interface StreamAnnounce {
  streamId: string
  name: string
  state: StreamAnnounce.State
  renditions: Rendition[]
  targetDurationMs: number
  lastSeq: number
  ingestMultiaddrs: Uint8Array<ArrayBuffer>[]
  updatedAtMs: number
  vod?: boolean
  container?: string
}

export namespace StreamAnnounce {
  export enum State {
    LIVE = 'LIVE',
    ENDED = 'ENDED'
  }

  enum __StateValues {
    LIVE = 0,
    ENDED = 1
  }

  export namespace State {
    export const codec = (): Codec<State> => {
      return enumeration<State>(__StateValues)
    }
  }

  let _codec: Codec<StreamAnnounce>

  export const codec = (): Codec<StreamAnnounce> => {
    if (_codec == null) {
      _codec = message<StreamAnnounce>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.streamId != null && obj.streamId !== '')) {
          w.uint32(10)
          w.string(obj.streamId)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if (obj.state != null && __StateValues[obj.state] !== 0) {
          w.uint32(24)
          StreamAnnounce.State.codec().encode(obj.state, w)
        }

        if (obj.renditions != null && obj.renditions.length > 0) {
          for (const value of obj.renditions) {
            w.uint32(34)
            Rendition.codec().encode(value, w)
          }
        }

        if ((obj.targetDurationMs != null && obj.targetDurationMs !== 0)) {
          w.uint32(40)
          w.uint32(obj.targetDurationMs)
        }

        if ((obj.lastSeq != null && obj.lastSeq !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.lastSeq)
        }

        if (obj.ingestMultiaddrs != null && obj.ingestMultiaddrs.length > 0) {
          for (const value of obj.ingestMultiaddrs) {
            w.uint32(58)
            w.bytes(value)
          }
        }

        if ((obj.updatedAtMs != null && obj.updatedAtMs !== 0)) {
          w.uint32(64)
          w.uint64Number(obj.updatedAtMs)
        }

        if (obj.vod != null) {
          w.uint32(72)
          w.bool(obj.vod)
        }

        if (obj.container != null) {
          w.uint32(82)
          w.string(obj.container)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          streamId: '',
          name: '',
          state: State.LIVE,
          renditions: [],
          targetDurationMs: 0,
          lastSeq: 0,
          ingestMultiaddrs: [],
          updatedAtMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.streamId = reader.string()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              obj.state = StreamAnnounce.State.codec().decode(reader)
              break
            }
            case 4: {
              if (opts.limits?.renditions != null && obj.renditions.length === opts.limits.renditions) {
                throw new MaxLengthError('Decode error - repeated field "renditions" had too many elements')
              }

              obj.renditions.push(Rendition.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.renditions$
              }))
              break
            }
            case 5: {
              obj.targetDurationMs = reader.uint32()
              break
            }
            case 6: {
              obj.lastSeq = reader.uint64Number()
              break
            }
            case 7: {
              if (opts.limits?.ingestMultiaddrs != null && obj.ingestMultiaddrs.length === opts.limits.ingestMultiaddrs) {
                throw new MaxLengthError('Decode error - repeated field "ingestMultiaddrs" had too many elements')
              }

              obj.ingestMultiaddrs.push(reader.bytes())
              break
            }
            case 8: {
              obj.updatedAtMs = reader.uint64Number()
              break
            }
            case 9: {
              obj.vod = reader.bool()
              break
            }
            case 10: {
              obj.container = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          renditions: 0,
          ingestMultiaddrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.streamId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.state`,
                value: StreamAnnounce.State.codec().decode(reader)
              }
              break
            }
            case 4: {
              if (opts.limits?.renditions != null && obj.renditions === opts.limits.renditions) {
                throw new MaxLengthError('Streaming decode error - repeated field "renditions" had too many elements')
              }

              for (const evt of Rendition.codec().stream(reader, reader.uint32(), `${prefix}.renditions[]`, {
                limits: opts.limits?.renditions$
              })) {
                yield {
                  ...evt,
                  index: obj.renditions
                }
              }

              obj.renditions++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.targetDurationMs`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.lastSeq`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              if (opts.limits?.ingestMultiaddrs != null && obj.ingestMultiaddrs === opts.limits.ingestMultiaddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "ingestMultiaddrs" had too many elements')
              }

              yield {
                field: `${prefix}.ingestMultiaddrs[]`,
                index: obj.ingestMultiaddrs,
                value: reader.bytes()
              }

              obj.ingestMultiaddrs++

              break
            }
            case 8: {
              yield {
                field: `${prefix}.updatedAtMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.vod`,
                value: reader.bool()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.container`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface StreamAnnounceStreamIdFieldEvent {
    field: '$.streamId'
    value: string
  }

  export interface StreamAnnounceNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface StreamAnnounceStateFieldEvent {
    field: '$.state'
    value: StreamAnnounce.State
  }

  export interface StreamAnnounceRenditionsNameFieldEvent {
    field: '$.renditions[].name'
    value: string
    index: number
  }

  export interface StreamAnnounceRenditionsWidthFieldEvent {
    field: '$.renditions[].width'
    value: number
    index: number
  }

  export interface StreamAnnounceRenditionsHeightFieldEvent {
    field: '$.renditions[].height'
    value: number
    index: number
  }

  export interface StreamAnnounceRenditionsBandwidthFieldEvent {
    field: '$.renditions[].bandwidth'
    value: number
    index: number
  }

  export interface StreamAnnounceRenditionsCodecsFieldEvent {
    field: '$.renditions[].codecs'
    value: string
    index: number
  }

  export interface StreamAnnounceRenditionsSizeFieldEvent {
    field: '$.renditions[].size'
    value: number
    index: number
  }

  export interface StreamAnnounceRenditionsSha256FieldEvent {
    field: '$.renditions[].sha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface StreamAnnounceRenditionsInitSizeFieldEvent {
    field: '$.renditions[].initSize'
    value: number
    index: number
  }

  export interface StreamAnnounceRenditionsInitSha256FieldEvent {
    field: '$.renditions[].initSha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface StreamAnnounceTargetDurationMsFieldEvent {
    field: '$.targetDurationMs'
    value: number
  }

  export interface StreamAnnounceLastSeqFieldEvent {
    field: '$.lastSeq'
    value: number
  }

  export interface StreamAnnounceIngestMultiaddrsFieldEvent {
    field: '$.ingestMultiaddrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface StreamAnnounceUpdatedAtMsFieldEvent {
    field: '$.updatedAtMs'
    value: number
  }

  export interface StreamAnnounceVodFieldEvent {
    field: '$.vod'
    value: boolean
  }

  export interface StreamAnnounceContainerFieldEvent {
    field: '$.container'
    value: string
  }

  export function encode (obj: Partial<StreamAnnounce>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, StreamAnnounce.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StreamAnnounce>): StreamAnnounce {
    return decodeMessage(buf, StreamAnnounce.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StreamAnnounce>): Generator<StreamAnnounceStreamIdFieldEvent | StreamAnnounceNameFieldEvent | StreamAnnounceStateFieldEvent | StreamAnnounceRenditionsNameFieldEvent | StreamAnnounceRenditionsWidthFieldEvent | StreamAnnounceRenditionsHeightFieldEvent | StreamAnnounceRenditionsBandwidthFieldEvent | StreamAnnounceRenditionsCodecsFieldEvent | StreamAnnounceRenditionsSizeFieldEvent | StreamAnnounceRenditionsSha256FieldEvent | StreamAnnounceRenditionsInitSizeFieldEvent | StreamAnnounceRenditionsInitSha256FieldEvent | StreamAnnounceTargetDurationMsFieldEvent | StreamAnnounceLastSeqFieldEvent | StreamAnnounceIngestMultiaddrsFieldEvent | StreamAnnounceUpdatedAtMsFieldEvent | StreamAnnounceVodFieldEvent | StreamAnnounceContainerFieldEvent> {
    return streamMessage(buf, StreamAnnounce.codec(), opts)
  }
}

export interface SegmentAnnounce {
  streamId: string
  seq: number
  durationMs: number
  pdtMs: number
  discontinuity: boolean
  renditions: Rendition[]
  mediaTime?: number
}

export namespace SegmentAnnounce {
  let _codec: Codec<SegmentAnnounce>

  export const codec = (): Codec<SegmentAnnounce> => {
    if (_codec == null) {
      _codec = message<SegmentAnnounce>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.streamId != null && obj.streamId !== '')) {
          w.uint32(10)
          w.string(obj.streamId)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.seq)
        }

        if ((obj.durationMs != null && obj.durationMs !== 0)) {
          w.uint32(24)
          w.uint32(obj.durationMs)
        }

        if ((obj.pdtMs != null && obj.pdtMs !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.pdtMs)
        }

        if ((obj.discontinuity != null && obj.discontinuity !== false)) {
          w.uint32(40)
          w.bool(obj.discontinuity)
        }

        if (obj.renditions != null && obj.renditions.length > 0) {
          for (const value of obj.renditions) {
            w.uint32(50)
            Rendition.codec().encode(value, w)
          }
        }

        if (obj.mediaTime != null) {
          w.uint32(56)
          w.uint64Number(obj.mediaTime)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          streamId: '',
          seq: 0,
          durationMs: 0,
          pdtMs: 0,
          discontinuity: false,
          renditions: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.streamId = reader.string()
              break
            }
            case 2: {
              obj.seq = reader.uint64Number()
              break
            }
            case 3: {
              obj.durationMs = reader.uint32()
              break
            }
            case 4: {
              obj.pdtMs = reader.uint64Number()
              break
            }
            case 5: {
              obj.discontinuity = reader.bool()
              break
            }
            case 6: {
              if (opts.limits?.renditions != null && obj.renditions.length === opts.limits.renditions) {
                throw new MaxLengthError('Decode error - repeated field "renditions" had too many elements')
              }

              obj.renditions.push(Rendition.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.renditions$
              }))
              break
            }
            case 7: {
              obj.mediaTime = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          renditions: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.streamId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.durationMs`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.pdtMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.discontinuity`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              if (opts.limits?.renditions != null && obj.renditions === opts.limits.renditions) {
                throw new MaxLengthError('Streaming decode error - repeated field "renditions" had too many elements')
              }

              for (const evt of Rendition.codec().stream(reader, reader.uint32(), `${prefix}.renditions[]`, {
                limits: opts.limits?.renditions$
              })) {
                yield {
                  ...evt,
                  index: obj.renditions
                }
              }

              obj.renditions++

              break
            }
            case 7: {
              yield {
                field: `${prefix}.mediaTime`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SegmentAnnounceStreamIdFieldEvent {
    field: '$.streamId'
    value: string
  }

  export interface SegmentAnnounceSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface SegmentAnnounceDurationMsFieldEvent {
    field: '$.durationMs'
    value: number
  }

  export interface SegmentAnnouncePdtMsFieldEvent {
    field: '$.pdtMs'
    value: number
  }

  export interface SegmentAnnounceDiscontinuityFieldEvent {
    field: '$.discontinuity'
    value: boolean
  }

  export interface SegmentAnnounceRenditionsNameFieldEvent {
    field: '$.renditions[].name'
    value: string
    index: number
  }

  export interface SegmentAnnounceRenditionsWidthFieldEvent {
    field: '$.renditions[].width'
    value: number
    index: number
  }

  export interface SegmentAnnounceRenditionsHeightFieldEvent {
    field: '$.renditions[].height'
    value: number
    index: number
  }

  export interface SegmentAnnounceRenditionsBandwidthFieldEvent {
    field: '$.renditions[].bandwidth'
    value: number
    index: number
  }

  export interface SegmentAnnounceRenditionsCodecsFieldEvent {
    field: '$.renditions[].codecs'
    value: string
    index: number
  }

  export interface SegmentAnnounceRenditionsSizeFieldEvent {
    field: '$.renditions[].size'
    value: number
    index: number
  }

  export interface SegmentAnnounceRenditionsSha256FieldEvent {
    field: '$.renditions[].sha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SegmentAnnounceRenditionsInitSizeFieldEvent {
    field: '$.renditions[].initSize'
    value: number
    index: number
  }

  export interface SegmentAnnounceRenditionsInitSha256FieldEvent {
    field: '$.renditions[].initSha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SegmentAnnounceMediaTimeFieldEvent {
    field: '$.mediaTime'
    value: number
  }

  export function encode (obj: Partial<SegmentAnnounce>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SegmentAnnounce.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SegmentAnnounce>): SegmentAnnounce {
    return decodeMessage(buf, SegmentAnnounce.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SegmentAnnounce>): Generator<SegmentAnnounceStreamIdFieldEvent | SegmentAnnounceSeqFieldEvent | SegmentAnnounceDurationMsFieldEvent | SegmentAnnouncePdtMsFieldEvent | SegmentAnnounceDiscontinuityFieldEvent | SegmentAnnounceRenditionsNameFieldEvent | SegmentAnnounceRenditionsWidthFieldEvent | SegmentAnnounceRenditionsHeightFieldEvent | SegmentAnnounceRenditionsBandwidthFieldEvent | SegmentAnnounceRenditionsCodecsFieldEvent | SegmentAnnounceRenditionsSizeFieldEvent | SegmentAnnounceRenditionsSha256FieldEvent | SegmentAnnounceRenditionsInitSizeFieldEvent | SegmentAnnounceRenditionsInitSha256FieldEvent | SegmentAnnounceMediaTimeFieldEvent> {
    return streamMessage(buf, SegmentAnnounce.codec(), opts)
  }
}

export interface Bid {
  jobId: string
  estimateMs: number
  activeJobs: number
  maxJobs: number
  gpu: boolean
  hwKind: string
  price: number
}

export namespace Bid {
  let _codec: Codec<Bid>

  export const codec = (): Codec<Bid> => {
    if (_codec == null) {
      _codec = message<Bid>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(10)
          w.string(obj.jobId)
        }

        if ((obj.estimateMs != null && obj.estimateMs !== 0)) {
          w.uint32(16)
          w.uint32(obj.estimateMs)
        }

        if ((obj.activeJobs != null && obj.activeJobs !== 0)) {
          w.uint32(24)
          w.uint32(obj.activeJobs)
        }

        if ((obj.maxJobs != null && obj.maxJobs !== 0)) {
          w.uint32(32)
          w.uint32(obj.maxJobs)
        }

        if ((obj.gpu != null && obj.gpu !== false)) {
          w.uint32(40)
          w.bool(obj.gpu)
        }

        if ((obj.hwKind != null && obj.hwKind !== '')) {
          w.uint32(50)
          w.string(obj.hwKind)
        }

        if ((obj.price != null && obj.price !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.price)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: '',
          estimateMs: 0,
          activeJobs: 0,
          maxJobs: 0,
          gpu: false,
          hwKind: '',
          price: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.jobId = reader.string()
              break
            }
            case 2: {
              obj.estimateMs = reader.uint32()
              break
            }
            case 3: {
              obj.activeJobs = reader.uint32()
              break
            }
            case 4: {
              obj.maxJobs = reader.uint32()
              break
            }
            case 5: {
              obj.gpu = reader.bool()
              break
            }
            case 6: {
              obj.hwKind = reader.string()
              break
            }
            case 7: {
              obj.price = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.estimateMs`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.activeJobs`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.maxJobs`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.gpu`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.hwKind`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.price`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BidJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface BidEstimateMsFieldEvent {
    field: '$.estimateMs'
    value: number
  }

  export interface BidActiveJobsFieldEvent {
    field: '$.activeJobs'
    value: number
  }

  export interface BidMaxJobsFieldEvent {
    field: '$.maxJobs'
    value: number
  }

  export interface BidGpuFieldEvent {
    field: '$.gpu'
    value: boolean
  }

  export interface BidHwKindFieldEvent {
    field: '$.hwKind'
    value: string
  }

  export interface BidPriceFieldEvent {
    field: '$.price'
    value: number
  }

  export function encode (obj: Partial<Bid>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Bid.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Bid>): Bid {
    return decodeMessage(buf, Bid.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Bid>): Generator<BidJobIdFieldEvent | BidEstimateMsFieldEvent | BidActiveJobsFieldEvent | BidMaxJobsFieldEvent | BidGpuFieldEvent | BidHwKindFieldEvent | BidPriceFieldEvent> {
    return streamMessage(buf, Bid.codec(), opts)
  }
}

export interface BidAck {
  accepted: boolean
  reason: string
}

export namespace BidAck {
  let _codec: Codec<BidAck>

  export const codec = (): Codec<BidAck> => {
    if (_codec == null) {
      _codec = message<BidAck>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.accepted != null && obj.accepted !== false)) {
          w.uint32(8)
          w.bool(obj.accepted)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          accepted: false,
          reason: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.accepted = reader.bool()
              break
            }
            case 2: {
              obj.reason = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.accepted`,
                value: reader.bool()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BidAckAcceptedFieldEvent {
    field: '$.accepted'
    value: boolean
  }

  export interface BidAckReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export function encode (obj: Partial<BidAck>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, BidAck.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BidAck>): BidAck {
    return decodeMessage(buf, BidAck.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BidAck>): Generator<BidAckAcceptedFieldEvent | BidAckReasonFieldEvent> {
    return streamMessage(buf, BidAck.codec(), opts)
  }
}

export interface TranscodeRequest {
  job?: JobAnnounce
  segmentSize: number
}

export namespace TranscodeRequest {
  let _codec: Codec<TranscodeRequest>

  export const codec = (): Codec<TranscodeRequest> => {
    if (_codec == null) {
      _codec = message<TranscodeRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.job != null) {
          w.uint32(10)
          JobAnnounce.codec().encode(obj.job, w)
        }

        if ((obj.segmentSize != null && obj.segmentSize !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.segmentSize)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          segmentSize: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.job = JobAnnounce.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.job
              })
              break
            }
            case 2: {
              obj.segmentSize = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * JobAnnounce.codec().stream(reader, reader.uint32(), `${prefix}.job`, {
                limits: opts.limits?.job
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.segmentSize`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TranscodeRequestJobJobIdFieldEvent {
    field: '$.job.jobId'
    value: string
  }

  export interface TranscodeRequestJobStreamIdFieldEvent {
    field: '$.job.streamId'
    value: string
  }

  export interface TranscodeRequestJobSeqFieldEvent {
    field: '$.job.seq'
    value: number
  }

  export interface TranscodeRequestJobDurationMsFieldEvent {
    field: '$.job.durationMs'
    value: number
  }

  export interface TranscodeRequestJobSizeFieldEvent {
    field: '$.job.size'
    value: number
  }

  export interface TranscodeRequestJobWidthFieldEvent {
    field: '$.job.width'
    value: number
  }

  export interface TranscodeRequestJobHeightFieldEvent {
    field: '$.job.height'
    value: number
  }

  export interface TranscodeRequestJobVideoCodecFieldEvent {
    field: '$.job.videoCodec'
    value: string
  }

  export interface TranscodeRequestJobAudioCodecFieldEvent {
    field: '$.job.audioCodec'
    value: string
  }

  export interface TranscodeRequestJobFpsMilliFieldEvent {
    field: '$.job.fpsMilli'
    value: number
  }

  export interface TranscodeRequestJobLadderNameFieldEvent {
    field: '$.job.ladder[].name'
    value: string
    index: number
  }

  export interface TranscodeRequestJobLadderWidthFieldEvent {
    field: '$.job.ladder[].width'
    value: number
    index: number
  }

  export interface TranscodeRequestJobLadderHeightFieldEvent {
    field: '$.job.ladder[].height'
    value: number
    index: number
  }

  export interface TranscodeRequestJobLadderVideoKbpsFieldEvent {
    field: '$.job.ladder[].videoKbps'
    value: number
    index: number
  }

  export interface TranscodeRequestJobDeadlineMsFieldEvent {
    field: '$.job.deadlineMs'
    value: number
  }

  export interface TranscodeRequestJobIssuedAtMsFieldEvent {
    field: '$.job.issuedAtMs'
    value: number
  }

  export interface TranscodeRequestJobContainerFieldEvent {
    field: '$.job.container'
    value: string
  }

  export interface TranscodeRequestSegmentSizeFieldEvent {
    field: '$.segmentSize'
    value: number
  }

  export function encode (obj: Partial<TranscodeRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TranscodeRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TranscodeRequest>): TranscodeRequest {
    return decodeMessage(buf, TranscodeRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TranscodeRequest>): Generator<TranscodeRequestJobJobIdFieldEvent | TranscodeRequestJobStreamIdFieldEvent | TranscodeRequestJobSeqFieldEvent | TranscodeRequestJobDurationMsFieldEvent | TranscodeRequestJobSizeFieldEvent | TranscodeRequestJobWidthFieldEvent | TranscodeRequestJobHeightFieldEvent | TranscodeRequestJobVideoCodecFieldEvent | TranscodeRequestJobAudioCodecFieldEvent | TranscodeRequestJobFpsMilliFieldEvent | TranscodeRequestJobLadderNameFieldEvent | TranscodeRequestJobLadderWidthFieldEvent | TranscodeRequestJobLadderHeightFieldEvent | TranscodeRequestJobLadderVideoKbpsFieldEvent | TranscodeRequestJobDeadlineMsFieldEvent | TranscodeRequestJobIssuedAtMsFieldEvent | TranscodeRequestJobContainerFieldEvent | TranscodeRequestSegmentSizeFieldEvent> {
    return streamMessage(buf, TranscodeRequest.codec(), opts)
  }
}

export interface TranscodeResponse {
  status: TranscodeResponse.Status
  error: string
  renditions: Rendition[]
  elapsedMs: number
  encoder: string
}

export namespace TranscodeResponse {
  export enum Status {
    OK = 'OK',
    BUSY = 'BUSY',
    FAILED = 'FAILED',
    BAD_REQUEST = 'BAD_REQUEST'
  }

  enum __StatusValues {
    OK = 0,
    BUSY = 1,
    FAILED = 2,
    BAD_REQUEST = 3
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<TranscodeResponse>

  export const codec = (): Codec<TranscodeResponse> => {
    if (_codec == null) {
      _codec = message<TranscodeResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          TranscodeResponse.Status.codec().encode(obj.status, w)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(18)
          w.string(obj.error)
        }

        if (obj.renditions != null && obj.renditions.length > 0) {
          for (const value of obj.renditions) {
            w.uint32(26)
            Rendition.codec().encode(value, w)
          }
        }

        if ((obj.elapsedMs != null && obj.elapsedMs !== 0)) {
          w.uint32(32)
          w.uint32(obj.elapsedMs)
        }

        if ((obj.encoder != null && obj.encoder !== '')) {
          w.uint32(42)
          w.string(obj.encoder)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.OK,
          error: '',
          renditions: [],
          elapsedMs: 0,
          encoder: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = TranscodeResponse.Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.error = reader.string()
              break
            }
            case 3: {
              if (opts.limits?.renditions != null && obj.renditions.length === opts.limits.renditions) {
                throw new MaxLengthError('Decode error - repeated field "renditions" had too many elements')
              }

              obj.renditions.push(Rendition.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.renditions$
              }))
              break
            }
            case 4: {
              obj.elapsedMs = reader.uint32()
              break
            }
            case 5: {
              obj.encoder = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          renditions: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.status`,
                value: TranscodeResponse.Status.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 3: {
              if (opts.limits?.renditions != null && obj.renditions === opts.limits.renditions) {
                throw new MaxLengthError('Streaming decode error - repeated field "renditions" had too many elements')
              }

              for (const evt of Rendition.codec().stream(reader, reader.uint32(), `${prefix}.renditions[]`, {
                limits: opts.limits?.renditions$
              })) {
                yield {
                  ...evt,
                  index: obj.renditions
                }
              }

              obj.renditions++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.elapsedMs`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.encoder`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TranscodeResponseStatusFieldEvent {
    field: '$.status'
    value: TranscodeResponse.Status
  }

  export interface TranscodeResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface TranscodeResponseRenditionsNameFieldEvent {
    field: '$.renditions[].name'
    value: string
    index: number
  }

  export interface TranscodeResponseRenditionsWidthFieldEvent {
    field: '$.renditions[].width'
    value: number
    index: number
  }

  export interface TranscodeResponseRenditionsHeightFieldEvent {
    field: '$.renditions[].height'
    value: number
    index: number
  }

  export interface TranscodeResponseRenditionsBandwidthFieldEvent {
    field: '$.renditions[].bandwidth'
    value: number
    index: number
  }

  export interface TranscodeResponseRenditionsCodecsFieldEvent {
    field: '$.renditions[].codecs'
    value: string
    index: number
  }

  export interface TranscodeResponseRenditionsSizeFieldEvent {
    field: '$.renditions[].size'
    value: number
    index: number
  }

  export interface TranscodeResponseRenditionsSha256FieldEvent {
    field: '$.renditions[].sha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface TranscodeResponseRenditionsInitSizeFieldEvent {
    field: '$.renditions[].initSize'
    value: number
    index: number
  }

  export interface TranscodeResponseRenditionsInitSha256FieldEvent {
    field: '$.renditions[].initSha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface TranscodeResponseElapsedMsFieldEvent {
    field: '$.elapsedMs'
    value: number
  }

  export interface TranscodeResponseEncoderFieldEvent {
    field: '$.encoder'
    value: string
  }

  export function encode (obj: Partial<TranscodeResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TranscodeResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TranscodeResponse>): TranscodeResponse {
    return decodeMessage(buf, TranscodeResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TranscodeResponse>): Generator<TranscodeResponseStatusFieldEvent | TranscodeResponseErrorFieldEvent | TranscodeResponseRenditionsNameFieldEvent | TranscodeResponseRenditionsWidthFieldEvent | TranscodeResponseRenditionsHeightFieldEvent | TranscodeResponseRenditionsBandwidthFieldEvent | TranscodeResponseRenditionsCodecsFieldEvent | TranscodeResponseRenditionsSizeFieldEvent | TranscodeResponseRenditionsSha256FieldEvent | TranscodeResponseRenditionsInitSizeFieldEvent | TranscodeResponseRenditionsInitSha256FieldEvent | TranscodeResponseElapsedMsFieldEvent | TranscodeResponseEncoderFieldEvent> {
    return streamMessage(buf, TranscodeResponse.codec(), opts)
  }
}

export interface FetchRequest {
  kind: FetchRequest.Kind
  streamId: string
  rendition: string
  seq: number
  acceptBusy?: boolean
}

export namespace FetchRequest {
  export enum Kind {
    SEGMENT = 'SEGMENT',
    INDEX = 'INDEX'
  }

  enum __KindValues {
    SEGMENT = 0,
    INDEX = 1
  }

  export namespace Kind {
    export const codec = (): Codec<Kind> => {
      return enumeration<Kind>(__KindValues)
    }
  }

  let _codec: Codec<FetchRequest>

  export const codec = (): Codec<FetchRequest> => {
    if (_codec == null) {
      _codec = message<FetchRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.kind != null && __KindValues[obj.kind] !== 0) {
          w.uint32(8)
          FetchRequest.Kind.codec().encode(obj.kind, w)
        }

        if ((obj.streamId != null && obj.streamId !== '')) {
          w.uint32(18)
          w.string(obj.streamId)
        }

        if ((obj.rendition != null && obj.rendition !== '')) {
          w.uint32(26)
          w.string(obj.rendition)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.seq)
        }

        if (obj.acceptBusy != null) {
          w.uint32(40)
          w.bool(obj.acceptBusy)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: Kind.SEGMENT,
          streamId: '',
          rendition: '',
          seq: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = FetchRequest.Kind.codec().decode(reader)
              break
            }
            case 2: {
              obj.streamId = reader.string()
              break
            }
            case 3: {
              obj.rendition = reader.string()
              break
            }
            case 4: {
              obj.seq = reader.uint64Number()
              break
            }
            case 5: {
              obj.acceptBusy = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.kind`,
                value: FetchRequest.Kind.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.streamId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.rendition`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.acceptBusy`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface FetchRequestKindFieldEvent {
    field: '$.kind'
    value: FetchRequest.Kind
  }

  export interface FetchRequestStreamIdFieldEvent {
    field: '$.streamId'
    value: string
  }

  export interface FetchRequestRenditionFieldEvent {
    field: '$.rendition'
    value: string
  }

  export interface FetchRequestSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface FetchRequestAcceptBusyFieldEvent {
    field: '$.acceptBusy'
    value: boolean
  }

  export function encode (obj: Partial<FetchRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FetchRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchRequest>): FetchRequest {
    return decodeMessage(buf, FetchRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchRequest>): Generator<FetchRequestKindFieldEvent | FetchRequestStreamIdFieldEvent | FetchRequestRenditionFieldEvent | FetchRequestSeqFieldEvent | FetchRequestAcceptBusyFieldEvent> {
    return streamMessage(buf, FetchRequest.codec(), opts)
  }
}

export interface FetchResponse {
  status: FetchResponse.Status
  error: string
  size: number
  sha256: Uint8Array<ArrayBuffer>
  stream?: StreamAnnounce
  segments: SegmentAnnounce[]
  busy?: FetchBusy
}

export namespace FetchResponse {
  export enum Status {
    OK = 'OK',
    NOT_FOUND = 'NOT_FOUND',
    ERROR = 'ERROR',
    BAD_REQUEST = 'BAD_REQUEST',
    BUSY = 'BUSY'
  }

  enum __StatusValues {
    OK = 0,
    NOT_FOUND = 1,
    ERROR = 2,
    BAD_REQUEST = 3,
    BUSY = 4
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<FetchResponse>

  export const codec = (): Codec<FetchResponse> => {
    if (_codec == null) {
      _codec = message<FetchResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          FetchResponse.Status.codec().encode(obj.status, w)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(18)
          w.string(obj.error)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.size)
        }

        if ((obj.sha256 != null && obj.sha256.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.sha256)
        }

        if (obj.stream != null) {
          w.uint32(42)
          StreamAnnounce.codec().encode(obj.stream, w)
        }

        if (obj.segments != null && obj.segments.length > 0) {
          for (const value of obj.segments) {
            w.uint32(50)
            SegmentAnnounce.codec().encode(value, w)
          }
        }

        if (obj.busy != null) {
          w.uint32(58)
          FetchBusy.codec().encode(obj.busy, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.OK,
          error: '',
          size: 0,
          sha256: uint8ArrayAlloc(0),
          segments: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = FetchResponse.Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.error = reader.string()
              break
            }
            case 3: {
              obj.size = reader.uint64Number()
              break
            }
            case 4: {
              obj.sha256 = reader.bytes()
              break
            }
            case 5: {
              obj.stream = StreamAnnounce.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.stream
              })
              break
            }
            case 6: {
              if (opts.limits?.segments != null && obj.segments.length === opts.limits.segments) {
                throw new MaxLengthError('Decode error - repeated field "segments" had too many elements')
              }

              obj.segments.push(SegmentAnnounce.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.segments$
              }))
              break
            }
            case 7: {
              obj.busy = FetchBusy.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.busy
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          segments: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.status`,
                value: FetchResponse.Status.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.sha256`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield * StreamAnnounce.codec().stream(reader, reader.uint32(), `${prefix}.stream`, {
                limits: opts.limits?.stream
              })

              break
            }
            case 6: {
              if (opts.limits?.segments != null && obj.segments === opts.limits.segments) {
                throw new MaxLengthError('Streaming decode error - repeated field "segments" had too many elements')
              }

              for (const evt of SegmentAnnounce.codec().stream(reader, reader.uint32(), `${prefix}.segments[]`, {
                limits: opts.limits?.segments$
              })) {
                yield {
                  ...evt,
                  index: obj.segments
                }
              }

              obj.segments++

              break
            }
            case 7: {
              yield * FetchBusy.codec().stream(reader, reader.uint32(), `${prefix}.busy`, {
                limits: opts.limits?.busy
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface FetchResponseStatusFieldEvent {
    field: '$.status'
    value: FetchResponse.Status
  }

  export interface FetchResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface FetchResponseSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface FetchResponseSha256FieldEvent {
    field: '$.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FetchResponseStreamStreamIdFieldEvent {
    field: '$.stream.streamId'
    value: string
  }

  export interface FetchResponseStreamNameFieldEvent {
    field: '$.stream.name'
    value: string
  }

  export interface FetchResponseStreamStateFieldEvent {
    field: '$.stream.state'
    value: StreamAnnounce.State
  }

  export interface FetchResponseStreamRenditionsNameFieldEvent {
    field: '$.stream.renditions[].name'
    value: string
    index: number
  }

  export interface FetchResponseStreamRenditionsWidthFieldEvent {
    field: '$.stream.renditions[].width'
    value: number
    index: number
  }

  export interface FetchResponseStreamRenditionsHeightFieldEvent {
    field: '$.stream.renditions[].height'
    value: number
    index: number
  }

  export interface FetchResponseStreamRenditionsBandwidthFieldEvent {
    field: '$.stream.renditions[].bandwidth'
    value: number
    index: number
  }

  export interface FetchResponseStreamRenditionsCodecsFieldEvent {
    field: '$.stream.renditions[].codecs'
    value: string
    index: number
  }

  export interface FetchResponseStreamRenditionsSizeFieldEvent {
    field: '$.stream.renditions[].size'
    value: number
    index: number
  }

  export interface FetchResponseStreamRenditionsSha256FieldEvent {
    field: '$.stream.renditions[].sha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface FetchResponseStreamRenditionsInitSizeFieldEvent {
    field: '$.stream.renditions[].initSize'
    value: number
    index: number
  }

  export interface FetchResponseStreamRenditionsInitSha256FieldEvent {
    field: '$.stream.renditions[].initSha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface FetchResponseStreamTargetDurationMsFieldEvent {
    field: '$.stream.targetDurationMs'
    value: number
  }

  export interface FetchResponseStreamLastSeqFieldEvent {
    field: '$.stream.lastSeq'
    value: number
  }

  export interface FetchResponseStreamIngestMultiaddrsFieldEvent {
    field: '$.stream.ingestMultiaddrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface FetchResponseStreamUpdatedAtMsFieldEvent {
    field: '$.stream.updatedAtMs'
    value: number
  }

  export interface FetchResponseStreamVodFieldEvent {
    field: '$.stream.vod'
    value: boolean
  }

  export interface FetchResponseStreamContainerFieldEvent {
    field: '$.stream.container'
    value: string
  }

  export interface FetchResponseSegmentsStreamIdFieldEvent {
    field: '$.segments[].streamId'
    value: string
    index: number
  }

  export interface FetchResponseSegmentsSeqFieldEvent {
    field: '$.segments[].seq'
    value: number
    index: number
  }

  export interface FetchResponseSegmentsDurationMsFieldEvent {
    field: '$.segments[].durationMs'
    value: number
    index: number
  }

  export interface FetchResponseSegmentsPdtMsFieldEvent {
    field: '$.segments[].pdtMs'
    value: number
    index: number
  }

  export interface FetchResponseSegmentsDiscontinuityFieldEvent {
    field: '$.segments[].discontinuity'
    value: boolean
    index: number
  }

  export interface FetchResponseSegmentsRenditionsNameFieldEvent {
    field: '$.segments[].renditions[].name'
    value: string
    index: number
  }

  export interface FetchResponseSegmentsRenditionsWidthFieldEvent {
    field: '$.segments[].renditions[].width'
    value: number
    index: number
  }

  export interface FetchResponseSegmentsRenditionsHeightFieldEvent {
    field: '$.segments[].renditions[].height'
    value: number
    index: number
  }

  export interface FetchResponseSegmentsRenditionsBandwidthFieldEvent {
    field: '$.segments[].renditions[].bandwidth'
    value: number
    index: number
  }

  export interface FetchResponseSegmentsRenditionsCodecsFieldEvent {
    field: '$.segments[].renditions[].codecs'
    value: string
    index: number
  }

  export interface FetchResponseSegmentsRenditionsSizeFieldEvent {
    field: '$.segments[].renditions[].size'
    value: number
    index: number
  }

  export interface FetchResponseSegmentsRenditionsSha256FieldEvent {
    field: '$.segments[].renditions[].sha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface FetchResponseSegmentsRenditionsInitSizeFieldEvent {
    field: '$.segments[].renditions[].initSize'
    value: number
    index: number
  }

  export interface FetchResponseSegmentsRenditionsInitSha256FieldEvent {
    field: '$.segments[].renditions[].initSha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface FetchResponseSegmentsMediaTimeFieldEvent {
    field: '$.segments[].mediaTime'
    value: number
    index: number
  }

  export interface FetchResponseBusyHoldersFieldEvent {
    field: '$.busy.holders[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<FetchResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FetchResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchResponse>): FetchResponse {
    return decodeMessage(buf, FetchResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchResponse>): Generator<FetchResponseStatusFieldEvent | FetchResponseErrorFieldEvent | FetchResponseSizeFieldEvent | FetchResponseSha256FieldEvent | FetchResponseStreamStreamIdFieldEvent | FetchResponseStreamNameFieldEvent | FetchResponseStreamStateFieldEvent | FetchResponseStreamRenditionsNameFieldEvent | FetchResponseStreamRenditionsWidthFieldEvent | FetchResponseStreamRenditionsHeightFieldEvent | FetchResponseStreamRenditionsBandwidthFieldEvent | FetchResponseStreamRenditionsCodecsFieldEvent | FetchResponseStreamRenditionsSizeFieldEvent | FetchResponseStreamRenditionsSha256FieldEvent | FetchResponseStreamRenditionsInitSizeFieldEvent | FetchResponseStreamRenditionsInitSha256FieldEvent | FetchResponseStreamTargetDurationMsFieldEvent | FetchResponseStreamLastSeqFieldEvent | FetchResponseStreamIngestMultiaddrsFieldEvent | FetchResponseStreamUpdatedAtMsFieldEvent | FetchResponseStreamVodFieldEvent | FetchResponseStreamContainerFieldEvent | FetchResponseSegmentsStreamIdFieldEvent | FetchResponseSegmentsSeqFieldEvent | FetchResponseSegmentsDurationMsFieldEvent | FetchResponseSegmentsPdtMsFieldEvent | FetchResponseSegmentsDiscontinuityFieldEvent | FetchResponseSegmentsRenditionsNameFieldEvent | FetchResponseSegmentsRenditionsWidthFieldEvent | FetchResponseSegmentsRenditionsHeightFieldEvent | FetchResponseSegmentsRenditionsBandwidthFieldEvent | FetchResponseSegmentsRenditionsCodecsFieldEvent | FetchResponseSegmentsRenditionsSizeFieldEvent | FetchResponseSegmentsRenditionsSha256FieldEvent | FetchResponseSegmentsRenditionsInitSizeFieldEvent | FetchResponseSegmentsRenditionsInitSha256FieldEvent | FetchResponseSegmentsMediaTimeFieldEvent | FetchResponseBusyHoldersFieldEvent> {
    return streamMessage(buf, FetchResponse.codec(), opts)
  }
}

export interface FetchBusy {
  holders: string[]
}

export namespace FetchBusy {
  let _codec: Codec<FetchBusy>

  export const codec = (): Codec<FetchBusy> => {
    if (_codec == null) {
      _codec = message<FetchBusy>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.holders != null && obj.holders.length > 0) {
          for (const value of obj.holders) {
            w.uint32(10)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          holders: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.holders != null && obj.holders.length === opts.limits.holders) {
                throw new MaxLengthError('Decode error - repeated field "holders" had too many elements')
              }

              obj.holders.push(reader.string())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          holders: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.holders != null && obj.holders === opts.limits.holders) {
                throw new MaxLengthError('Streaming decode error - repeated field "holders" had too many elements')
              }

              yield {
                field: `${prefix}.holders[]`,
                index: obj.holders,
                value: reader.string()
              }

              obj.holders++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface FetchBusyHoldersFieldEvent {
    field: '$.holders[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<FetchBusy>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FetchBusy.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchBusy>): FetchBusy {
    return decodeMessage(buf, FetchBusy.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchBusy>): Generator<FetchBusyHoldersFieldEvent> {
    return streamMessage(buf, FetchBusy.codec(), opts)
  }
}

export interface Have {
  streamId: string
  seq: number
  renditions: string[]
}

export namespace Have {
  let _codec: Codec<Have>

  export const codec = (): Codec<Have> => {
    if (_codec == null) {
      _codec = message<Have>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.streamId != null && obj.streamId !== '')) {
          w.uint32(10)
          w.string(obj.streamId)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.seq)
        }

        if (obj.renditions != null && obj.renditions.length > 0) {
          for (const value of obj.renditions) {
            w.uint32(26)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          streamId: '',
          seq: 0,
          renditions: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.streamId = reader.string()
              break
            }
            case 2: {
              obj.seq = reader.uint64Number()
              break
            }
            case 3: {
              if (opts.limits?.renditions != null && obj.renditions.length === opts.limits.renditions) {
                throw new MaxLengthError('Decode error - repeated field "renditions" had too many elements')
              }

              obj.renditions.push(reader.string())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          renditions: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.streamId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              if (opts.limits?.renditions != null && obj.renditions === opts.limits.renditions) {
                throw new MaxLengthError('Streaming decode error - repeated field "renditions" had too many elements')
              }

              yield {
                field: `${prefix}.renditions[]`,
                index: obj.renditions,
                value: reader.string()
              }

              obj.renditions++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HaveStreamIdFieldEvent {
    field: '$.streamId'
    value: string
  }

  export interface HaveSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface HaveRenditionsFieldEvent {
    field: '$.renditions[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<Have>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Have.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Have>): Have {
    return decodeMessage(buf, Have.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Have>): Generator<HaveStreamIdFieldEvent | HaveSeqFieldEvent | HaveRenditionsFieldEvent> {
    return streamMessage(buf, Have.codec(), opts)
  }
}
