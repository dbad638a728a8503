// Modbus TCP (Modbus Application Protocol v1.1b3 and Messaging on TCP/IP v1.0b): MBAP framing and
// the request processing of function codes 3, 4, 6 and 16. Pure: writes are returned for the caller
// to carry out.
import { BmsSnapshot } from "../bms/snapshot"
import { isMapped, isWritable, registerValue } from "./register-map"

export const MBAP_LENGTH = 7
export const MAX_READ_COUNT = 125
export const MAX_WRITE_COUNT = 123
export const EX_ILLEGAL_FUNCTION = 0x01
export const EX_ILLEGAL_ADDRESS = 0x02
export const EX_ILLEGAL_VALUE = 0x03
export const EX_DEVICE_FAILURE = 0x04
export const EX_GATEWAY_PATH = 0x0a
export const EX_GATEWAY_TARGET = 0x0b

export interface ModbusFrame {
    transaction: number
    unit: number
    pdu: Buffer
}

/**
 * Takes whole frames off the front of a connection's byte stream, one at a time: a client that sends
 * 40 requests in one write gets them answered in turn, with one request object on the heap, not 40
 * (3.3 KB in the robustness flood). `error` is set when the header is malformed (protocol id not 0,
 * length out of 2..254): the connection must be closed.
 */
export class FrameSplitter {
    private pending: Buffer = Buffer.alloc(0)
    /** where the next frame starts in `pending` (taking a frame copies nothing but its PDU) */
    private at = 0
    error: string = null

    /** Adds received bytes after what is not taken yet. */
    push(bytes: Buffer) {
        const rest = this.pending.length - this.at
        this.pending = rest ? this.pending.slice(this.at).concat(bytes) : bytes
        this.at = 0
    }

    /** The next whole frame, or null until more bytes come (or after an error). */
    next(): ModbusFrame {
        const p = this.pending
        const at = this.at
        if (this.error || p.length - at < MBAP_LENGTH) return null
        const protocol = p.readUInt16BE(at + 2)
        const length = p.readUInt16BE(at + 4)
        if (protocol !== 0) this.error = `protocol id ${protocol}`
        else if (length < 2 || length > 254) this.error = `length ${length}`
        if (this.error || p.length - at < 6 + length) return null
        this.at = at + 6 + length
        return { transaction: p.readUInt16BE(at), unit: p[at + 6], pdu: p.slice(at + 7, at + 6 + length) }
    }
}

export function frameResponse(req: ModbusFrame, pdu: Buffer) {
    const r = Buffer.alloc(MBAP_LENGTH + pdu.length)
    r[0] = req.transaction >> 8
    r[1] = req.transaction & 0xff
    r[4] = (pdu.length + 1) >> 8
    r[5] = (pdu.length + 1) & 0xff
    r[6] = req.unit
    r.blitAt(7, pdu, 0, pdu.length)
    return r
}

export function exception(fn: number, code: number) {
    return Buffer.from([fn | 0x80, code])
}

export interface Write {
    addr: number
    value: number
}

export interface Outcome {
    /** the response PDU, or null when writes must be carried out first (then `writes` is set) */
    pdu: Buffer
    writes?: Write[]
    /** the response once the writes succeeded */
    okPdu?: Buffer
}

export interface ModbusContext {
    /** null while the BMS link is down */
    snapshot: BmsSnapshot
    writeEnabled: boolean
}

/** A refused request: the exception response, nothing to write. */
function refused(fn: number, code: number): Outcome {
    return { pdu: exception(fn, code) }
}

/** Handles one request PDU. */
export function processPdu(pdu: Buffer, ctx: ModbusContext): Outcome {
    const fn = pdu[0]
    if (fn === 3 || fn === 4) {
        if (pdu.length !== 5) return refused(fn, EX_ILLEGAL_VALUE)
        const start = pdu.readUInt16BE(1)
        const count = pdu.readUInt16BE(3)
        if (count < 1 || count > MAX_READ_COUNT) return refused(fn, EX_ILLEGAL_VALUE)
        for (let a = start; a < start + count; a++) if (!isMapped(a)) return refused(fn, EX_ILLEGAL_ADDRESS)
        if (!ctx.snapshot) return refused(fn, EX_GATEWAY_TARGET)
        const r = Buffer.alloc(2 + 2 * count)
        r[0] = fn
        r[1] = 2 * count
        for (let i = 0; i < count; i++) {
            const v = registerValue(start + i, ctx.snapshot)
            r[2 + 2 * i] = v >> 8
            r[3 + 2 * i] = v & 0xff
        }
        return { pdu: r }
    }
    if (fn === 6 || fn === 16) {
        if (!ctx.writeEnabled) return refused(fn, EX_ILLEGAL_FUNCTION)
        const start = pdu.readUInt16BE(1)
        let values: number[] = []
        if (fn === 6) {
            if (pdu.length !== 5) return refused(fn, EX_ILLEGAL_VALUE)
            values = [pdu.readUInt16BE(3)]
        } else {
            const count = pdu.readUInt16BE(3)
            if (pdu.length < 6 || count < 1 || count > MAX_WRITE_COUNT || pdu[5] !== 2 * count || pdu.length !== 6 + 2 * count)
                return refused(fn, EX_ILLEGAL_VALUE)
            for (let i = 0; i < count; i++) values.push(pdu.readUInt16BE(6 + 2 * i))
        }
        for (let i = 0; i < values.length; i++) if (!isWritable(start + i)) return refused(fn, EX_ILLEGAL_ADDRESS)
        for (const v of values) if (v !== 0 && v !== 1) return refused(fn, EX_ILLEGAL_VALUE)
        if (!ctx.snapshot) return refused(fn, EX_GATEWAY_TARGET)
        const writes: Write[] = []
        for (let i = 0; i < values.length; i++) writes.push({ addr: start + i, value: values[i] })
        return { pdu: null, writes, okPdu: fn === 6 ? pdu : pdu.slice(0, 5) }
    }
    return refused(fn, EX_ILLEGAL_FUNCTION)
}
