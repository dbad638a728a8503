// Daly's newer Modbus-style protocol as the BMS side sees it (shared/daly-modbus-protocol.md):
// requests `addr 03|06 reg(2) count|value(2) crc(lo,hi)`, replies from the scheme's reply address
// (D2 → D2, 0x80+board → 0x50+board). CRC-16/Modbus, low byte first.
export const D2 = 0xd2
export const P81_REQUEST_BASE = 0x80
export const P81_REPLY_BASE = 0x50
export const READ = 0x03
export const WRITE = 0x06
export const MAX_READ_REGISTERS = 125

export function crc16(bytes, length = bytes.length) {
    let crc = 0xffff
    for (let i = 0; i < length; i++) {
        crc ^= bytes[i]
        for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1
    }
    return crc
}

/** The bytes with their CRC appended (low byte first). */
export function withCrc(bytes) {
    const b = Buffer.from(bytes)
    const crc = crc16(b)
    return Buffer.concat([b, Buffer.from([crc & 0xff, crc >> 8])])
}

export function crcOk(frame) {
    if (frame.length < 4) return false
    const crc = crc16(frame, frame.length - 2)
    return frame[frame.length - 2] === (crc & 0xff) && frame[frame.length - 1] === crc >> 8
}

/** The request and reply addresses of a scheme: "d2", or "81" with a board number (1..16). */
export function schemeAddresses(protocol, board = 1) {
    if (protocol === "d2") return { request: D2, reply: D2 }
    if (protocol === "81") return { request: P81_REQUEST_BASE + board, reply: P81_REPLY_BASE + board }
    throw new Error(`unknown protocol "${protocol}" (a5, d2 or 81)`)
}

export function readRequest(address, start, count) {
    return withCrc([address, READ, start >> 8, start & 0xff, count >> 8, count & 0xff])
}

export function writeRequest(address, register, value) {
    return withCrc([address, WRITE, register >> 8, register & 0xff, value >> 8, value & 0xff])
}

/** A function-03 reply with these register values. */
export function readReply(address, values) {
    const b = Buffer.alloc(3 + 2 * values.length)
    b[0] = address
    b[1] = READ
    b[2] = 2 * values.length
    values.forEach((v, i) => b.writeUInt16BE(v & 0xffff, 3 + 2 * i))
    return withCrc(b)
}

/**
 * Splits the bytes the dongle sends into Modbus-style requests for `address`: 8-byte frames with
 * function 03 or 06 and a right CRC. Anything else (0xA5 frames, noise) is skipped byte by byte.
 */
export class ModbusRequestParser {
    constructor(address) {
        this.address = address
        this.pending = Buffer.alloc(0)
    }

    /** @returns {{fn:number, register:number, value:number}[]} value is the count for reads */
    push(bytes) {
        this.pending = Buffer.concat([this.pending, Buffer.from(bytes)])
        const requests = []
        let pos = 0
        const p = this.pending
        while (p.length - pos >= 8) {
            const f = p.subarray(pos, pos + 8)
            if (f[0] === this.address && (f[1] === READ || f[1] === WRITE) && crcOk(f)) {
                requests.push({ fn: f[1], register: f.readUInt16BE(2), value: f.readUInt16BE(4) })
                pos += 8
            } else pos++
        }
        this.pending = Buffer.from(p.subarray(pos))
        return requests
    }
}
