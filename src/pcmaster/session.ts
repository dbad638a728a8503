// Who owns the PCMaster bridge: one client (address and port) at a time, until it has been idle for
// SESSION_IDLE_MS. Pure.
import { checksum, FRAME_LENGTH, START_BYTE } from "../bms/frame"
import { crc16 } from "../bms/modbus-frame"
export const SESSION_IDLE_MS = 10000

export const ACCEPT = 1 // the datagram belongs to the session (a new one starts when there is none)
export const STARTED = 2 // ...and it started a new session
export const REFUSED = 3 // another client's session is active

/**
 * Is `d` a BMS request, whole frames only: 0xA5 frames (13 bytes, checksum right), or one Modbus-style
 * frame with its CRC right? Anything else never reaches the BMS nor starts a session: a burst of
 * random datagrams must not pause the polling or write garbage to the BMS. Pure.
 */
export function isBmsRequest(d: Buffer) {
    if (d.length >= 4 && d.length % FRAME_LENGTH === 0 && d[0] === START_BYTE) {
        for (let off = 0; off < d.length; off += FRAME_LENGTH) {
            const f = d.slice(off, off + FRAME_LENGTH)
            if (f[0] !== START_BYTE || checksum(f) !== f[12]) return false
        }
        return true
    }
    return d.length >= 4 && crc16(d, d.length - 2) === (d[d.length - 2] | (d[d.length - 1] << 8))
}

export class BridgeSession {
    owner = ""
    lastMs = 0

    active(nowMs: number) {
        return this.owner !== "" && nowMs - this.lastMs < SESSION_IDLE_MS
    }

    /** What to do with a datagram from `client` at `nowMs`. */
    offer(client: string, nowMs: number) {
        if (this.active(nowMs) && this.owner !== client) return REFUSED
        const started = !this.active(nowMs)
        this.owner = client
        this.lastMs = nowMs
        return started ? STARTED : ACCEPT
    }

    /** True once when an active session has just run out. */
    expired(nowMs: number) {
        if (this.owner === "" || this.active(nowMs)) return false
        this.owner = ""
        return true
    }
}
