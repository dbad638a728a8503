// Daly's newer Modbus-style frames (shared daly-modbus-protocol.md section 2): requests
// `addr 03|06 reg(2) count|value(2) crc`, CRC-16/Modbus sent low byte first; replies come from the
// scheme's reply address (D2 → D2, 0x80+board → 0x50+board). Pure.
export const D2_ADDRESS = 0xd2
export const P81_REQUEST_BASE = 0x80
export const P81_REPLY_BASE = 0x50
export const FN_READ = 0x03
export const FN_WRITE = 0x06

export function crc16(b: Buffer, length: number) {
    let crc = 0xffff
    for (let i = 0; i < length; i++) {
        crc ^= b[i]
        for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >> 1) ^ 0xa001 : crc >> 1
    }
    return crc
}

/** A request: function 03 (`value` = register count) or 06 (`value` written). */
export function modbusRequest(address: number, fn: number, register: number, value: number) {
    const f = Buffer.from([address, fn, register >> 8, register & 0xff, value >> 8, value & 0xff, 0, 0])
    const crc = crc16(f, 6)
    f[6] = crc & 0xff
    f[7] = crc >> 8
    return f
}

/**
 * Finds the reply in received bytes that may start with garbage or an older reply: the first
 * position with the reply address, the function and a right CRC over the expected length (a reply
 * of another length fails its CRC there). Null when there is none (yet). An exception reply (fn | 0x80, seen from no unit) times out.
 */
export function findReply(p: Buffer, address: number, fn: number, length: number): Buffer {
    for (let i = 0; i + length <= p.length; i++) {
        if (p[i] !== address || p[i + 1] !== fn) continue
        const crc = crc16(p.slice(i, i + length), length - 2)
        if (p[i + length - 2] === (crc & 0xff) && p[i + length - 1] === crc >> 8) return p.slice(i, i + length)
    }
    return null
}
