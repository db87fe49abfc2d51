/**
 * A small, bounded H.264 sequence parameter set reader (ITU-T H.264 7.3.2.1.1): profile, level
 * and the coded picture size after cropping. Pure; any read past the end or an out-of-range
 * value throws {@link SpsError}, so hostile bytes cannot make it loop or read out of bounds.
 */

export class SpsError extends Error {
  static readonly NAME = 'SpsError'
  override name = SpsError.NAME
}

/** Largest SPS accepted (real ones are 10–40 bytes; scaling lists can add ~100). */
export const MAX_SPS_BYTES = 1024
/** Largest picture side accepted, in pixels (H.264 level 6.2 allows 8192). */
const MAX_SIDE = 16_384

export interface Sps {
  profileIdc: number;
  /** constraint_set flags byte. */
  constraints: number;
  levelIdc: number;
  width: number;
  height: number;
}

/** H.264 profile_idc → the profile name ffprobe reports (what `codecString` takes). */
export function profileName (sps: Pick<Sps, 'profileIdc' | 'constraints'>): string {
  switch (sps.profileIdc) {
    case 66: return (sps.constraints & 0x40) !== 0 ? 'Constrained Baseline' : 'Baseline'
    case 77: return 'Main'
    case 88: return 'Extended'
    case 100: return 'High'
    case 110: return 'High 10'
    case 122: return 'High 4:2:2'
    case 244: return 'High 4:4:4 Predictive'
    default: return ''
  }
}

class Bits {
  #at = 0
  constructor (private readonly b: Uint8Array) {}
  bit (): number {
    const byte = this.#at >> 3
    if (byte >= this.b.byteLength) throw new SpsError('SPS truncated')
    const v = (this.b[byte]! >> (7 - (this.#at & 7))) & 1
    this.#at++
    return v
  }

  bits (n: number): number {
    let v = 0
    for (let i = 0; i < n; i++) v = v * 2 + this.bit()
    return v
  }

  /** Unsigned exp-Golomb, at most 31 leading zeros. */
  ue (): number {
    let zeros = 0
    while (this.bit() === 0) if (++zeros > 31) throw new SpsError('bad exp-Golomb code')
    return 2 ** zeros - 1 + this.bits(zeros)
  }

  se (): number {
    const k = this.ue()
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2
  }
}

/** RBSP of a NAL unit: emulation prevention bytes (00 00 03) removed. */
function rbsp (nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.byteLength)
  let n = 0
  let zeros = 0
  for (const b of nal) {
    if (zeros >= 2 && b === 3) { zeros = 0; continue }
    zeros = b === 0 ? zeros + 1 : 0
    out[n++] = b
  }
  return out.subarray(0, n)
}

/** Parses an SPS NAL unit (starting with its one-byte NAL header, type 7). */
export function parseSps (nal: Uint8Array): Sps {
  if (nal.byteLength < 4 || nal.byteLength > MAX_SPS_BYTES) throw new SpsError(`SPS of ${nal.byteLength} bytes`)
  if ((nal[0]! & 0x1f) !== 7) throw new SpsError(`NAL type ${nal[0]! & 0x1f} is not an SPS`)
  const r = new Bits(rbsp(nal.subarray(1)))
  const profileIdc = r.bits(8)
  const constraints = r.bits(8)
  const levelIdc = r.bits(8)
  r.ue() // seq_parameter_set_id
  let chroma = 1
  let separateColourPlane = 0
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profileIdc)) {
    chroma = r.ue()
    if (chroma > 3) throw new SpsError(`chroma_format_idc ${chroma}`)
    if (chroma === 3) separateColourPlane = r.bit()
    r.ue() // bit_depth_luma_minus8
    r.ue() // bit_depth_chroma_minus8
    r.bit() // qpprime_y_zero_transform_bypass_flag
    if (r.bit() === 1) { // seq_scaling_matrix_present_flag
      for (let i = 0; i < (chroma !== 3 ? 8 : 12); i++) {
        if (r.bit() === 0) continue
        let last = 8
        let next = 8
        for (let j = 0; j < (i < 6 ? 16 : 64) && next !== 0; j++) {
          next = (last + r.se() + 256) % 256
          if (next !== 0) last = next
        }
      }
    }
  }
  r.ue() // log2_max_frame_num_minus4
  const pocType = r.ue()
  if (pocType === 0) {
    r.ue() // log2_max_pic_order_cnt_lsb_minus4
  } else if (pocType === 1) {
    r.bit()
    r.se()
    r.se()
    const cycle = r.ue()
    if (cycle > 255) throw new SpsError(`num_ref_frames_in_pic_order_cnt_cycle ${cycle}`)
    for (let i = 0; i < cycle; i++) r.se()
  } else if (pocType !== 2) {
    throw new SpsError(`pic_order_cnt_type ${pocType}`)
  }
  r.ue() // max_num_ref_frames
  r.bit() // gaps_in_frame_num_value_allowed_flag
  const mbWidth = r.ue() + 1
  const mapUnitsHeight = r.ue() + 1
  const frameMbsOnly = r.bit()
  if (frameMbsOnly === 0) r.bit() // mb_adaptive_frame_field_flag
  r.bit() // direct_8x8_inference_flag
  let width = mbWidth * 16
  let height = (2 - frameMbsOnly) * mapUnitsHeight * 16
  if (r.bit() === 1) { // frame_cropping_flag
    const [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()]
    const subW = chroma === 1 || chroma === 2 ? 2 : 1
    const subH = chroma === 1 ? 2 : 1
    const cropX = separateColourPlane === 1 || chroma === 0 ? 1 : subW
    const cropY = (separateColourPlane === 1 || chroma === 0 ? 1 : subH) * (2 - frameMbsOnly)
    width -= (left + right) * cropX
    height -= (top + bottom) * cropY
  }
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) throw new SpsError(`picture ${width}x${height}`)
  return { profileIdc, constraints, levelIdc, width, height }
}
