// Daly "A5" frames (see shared daly-protocol.md): 13 bytes, A5 | address | data id | 08 | 8 data |
// checksum = low byte of the sum of the first 12. Pure functions, tested in the VM.
export const FRAME_LENGTH = 13
export const START_BYTE = 0xa5
export const REPLY_ADDRESS = 0x01
export const ADDRESS_PC = 0x40
export const ADDRESS_APP = 0x80

export function checksum(frame: Buffer) {
    let sum = 0
    for (let i = 0; i < 12; i++) sum += frame[i]
    return sum & 0xff
}

/** A request frame; the 8 data bytes are 0 unless given (writes put their arguments there). */
export function encodeRequest(address: number, dataId: number, data?: Buffer) {
    const f = Buffer.alloc(FRAME_LENGTH)
    f[0] = START_BYTE
    f[1] = address
    f[2] = dataId
    f[3] = 8
    if (data) f.blitAt(4, data, 0, Math.min(8, data.length))
    f[12] = checksum(f)
    return f
}

/**
 * Collects reply frames from a byte stream that may hold garbage, truncated and stale frames:
 * resynchronises on A5 and keeps only frames whose reply address, length and checksum are right.
 */
export class FrameReader {
    private pending: Buffer = Buffer.alloc(0)
    /** bytes skipped while resynchronising, for diagnostics */
    skipped = 0

    push(bytes: Buffer): Buffer[] {
        this.pending = this.pending.length ? this.pending.concat(bytes) : bytes
        const frames: Buffer[] = []
        let pos = 0
        const p = this.pending
        while (pos < p.length) {
            if (p[pos] !== START_BYTE) {
                pos++
                this.skipped++
                continue
            }
            if (p.length - pos < FRAME_LENGTH) break
            const f = p.slice(pos, pos + FRAME_LENGTH)
            if (f[1] === REPLY_ADDRESS && f[3] === 8 && checksum(f) === f[12]) {
                frames.push(f)
                pos += FRAME_LENGTH
            } else {
                pos++
                this.skipped++
            }
        }
        this.pending = p.slice(pos)
        return frames
    }

    clear() {
        this.pending = Buffer.alloc(0)
    }
}

export interface PackBasics {
    voltageV: number
    currentA: number
    socPct: number
}

/**
 * Decodes a 0x90 reply: total voltage (0.1 V), current (raw − 30000, 0.1 A), SOC (0.1 %).
 * Returns null for an absurd frame (raw current 0, SOC above 100 %): reject the frame, not the link.
 */
export function decodePackBasics(f: Buffer): PackBasics {
    if (f[2] !== 0x90) return null
    const rawCurrent = f.readUInt16BE(8)
    const soc = f.readUInt16BE(10)
    if (rawCurrent === 0 || soc > 1000) return null
    return {
        voltageV: f.readUInt16BE(4) / 10,
        currentA: Math.round(rawCurrent - 30000) / 10,
        socPct: soc / 10,
    }
}

/**
 * The order of the frames of one multi-frame reply (0x95, 0x96, 0x57): frame n is taken only after
 * frames 1..n-1 of the same reply. A frame 1 starts the reply again (what came before it was a
 * leftover of an older reply); a repeat of an earlier frame makes the reply ambiguous, so it starts
 * again too; a jump is discarded. Only `count` frames taken in order complete the reply. Pure.
 */
export class FrameSequence {
    next = 1
    constructor(public count: number) {}

    /** Whether frame number `n` is the next one in order; if so, it is taken. */
    offer(n: number) {
        if (n === 1 || n < this.next) this.next = 1
        if (n !== this.next) return false
        this.next++
        return true
    }

    complete() {
        return this.next > this.count
    }
}
