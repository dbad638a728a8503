// The BMS UART through the standard Jacdac Serial role: one request out, its reply frames back.
import * as ds from "@devicescript/core"
import { onEveryReport } from "../platform/tasks"
import { encodeRequest, FrameReader } from "./frame"
import { findReply } from "./modbus-frame"
import { Signal } from "../platform/signal"

export const BMS_BAUD = 9600
/** Serial `received` report; shares its code with the `send` command (see devicescript-notes.md). */
const SERIAL_RECEIVED = 0x80

export class BmsUart {
    private readonly serial = new ds.Serial()
    private readonly reader = new FrameReader()
    private frames: Buffer[] = []
    private readonly arrived = new Signal()
    /** the data id of the request before the current one */
    private previousId = -1
    private currentId = -1
    /**
     * Frames of the previous request's data id that arrived during the current request: a reply
     * that ended after its first valid frame may have been a leftover followed by the real frame.
     */
    late: Buffer[] = []
    /** requests sent and reply bytes received, for the statistics */
    requests = 0
    bytesReceived = 0

    constructor() {
        const self = this
        onEveryReport(this.serial, (pkt: ds.Packet) => self.onPacket(pkt))
    }

    /** Bytes received since the last Modbus-style request (null: 0xA5 frames are expected). */
    private modbusBytes: Buffer = null

    /** When set, received bytes go here unframed (the PCMaster bridge) instead of to the poller. */
    rawListener: (bytes: Buffer) => void = null

    private onPacket(pkt: ds.Packet) {
        if (!pkt.isReport || pkt.serviceCommand !== SERIAL_RECEIVED) return
        this.bytesReceived += pkt.payload.length
        if (this.rawListener) {
            this.rawListener(pkt.payload)
            return
        }
        if (this.modbusBytes) {
            this.modbusBytes = this.modbusBytes.concat(pkt.payload)
            this.arrived.emit(1)
            return
        }
        const got = this.reader.push(pkt.payload)
        if (!got.length) return
        for (const f of got) this.frames.push(f)
        this.arrived.emit(1)
    }

    /** Waits for the UART to be there and sets 9600 8N1. */
    async start() {
        while (!this.serial.isBound) await ds.sleep(20)
        await this.serial.baudRate.write(BMS_BAUD)
        await this.serial.enabled.write(true)
    }

    /** Sends bytes to the BMS unchanged (the PCMaster bridge). */
    async sendRaw(bytes: Buffer) {
        await this.serial.send(bytes)
    }

    /**
     * Sends one request and hands every valid reply frame with data id `dataId` to `accept` until it
     * returns true (the reply is complete) or `timeoutMs` passed. Frames of the previous request's
     * id are kept in `late`; frames of other ids (stale replies) are dropped. Partial bytes are not
     * cleared: the reader resynchronises on its own, and a frame in flight is not cut. Returns
     * whether `accept` said complete.
     */
    /**
     * Sends one Modbus-style request and returns its reply (`replyLength` bytes from `replyAddress`
     * with function `fn` and a right CRC), or null after `timeoutMs`.
     */
    async requestModbus(frame: Buffer, replyAddress: number, fn: number, replyLength: number, timeoutMs: number) {
        this.modbusBytes = Buffer.alloc(0)
        await this.serial.send(frame)
        this.requests++
        const deadline = ds.millis() + timeoutMs
        for (;;) {
            const reply = findReply(this.modbusBytes, replyAddress, fn, replyLength)
            if (reply) return reply
            const left = deadline - ds.millis()
            if (left <= 0) return null
            await this.arrived.wait(left)
        }
    }

    async request(address: number, dataId: number, timeoutMs: number, accept: (frame: Buffer) => boolean, data?: Buffer) {
        this.modbusBytes = null
        // frames of the last reply not taken yet (the UART hands a burst on whole: a leftover and
        // the real frame after it arrive together) are late frames of the previous request
        this.late = []
        for (const f of this.frames) if (f[2] === this.currentId) this.late.push(f)
        this.frames = []
        this.previousId = this.currentId
        this.currentId = dataId
        await this.serial.send(encodeRequest(address, dataId, data))
        this.requests++
        const deadline = ds.millis() + timeoutMs
        for (;;) {
            while (this.frames.length) {
                const f = this.frames.shift()
                if (f[2] === dataId) {
                    if (accept(f)) return true
                } else if (f[2] === this.previousId) this.late.push(f)
            }
            const left = deadline - ds.millis()
            if (left <= 0) return false
            await this.arrived.wait(left)
        }
    }
}
