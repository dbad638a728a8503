// The BMS UART through the standard Jacdac Serial role: one request out, its reply frames back.
import * as ds from "@devicescript/core"
import { encodeRequest, FrameReader } from "./frame"

export const BMS_BAUD = 9600
/** Serial `received` report; shares its code with the `send` command (see devicescript-notes.md). */
const SERIAL_RECEIVED = 0x80

export class BmsUart {
    private readonly serial = new ds.Serial()
    private readonly reader = new FrameReader()
    private frames: Buffer[] = []
    private readonly arrived = ds.emitter<number>()

    constructor() {
        const self = this
        this.serial.report().subscribe((pkt: ds.Packet) => self.onPacket(pkt))
    }

    private onPacket(pkt: ds.Packet) {
        if (!pkt.isReport || pkt.serviceCommand !== SERIAL_RECEIVED) return
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

    /**
     * Sends one request and collects reply frames with data id `dataId` until `expected` arrived or
     * `timeoutMs` passed. Frames of other ids (stale replies) are dropped.
     */
    async request(address: number, dataId: number, expected: number, timeoutMs: number, data?: Buffer) {
        this.frames = []
        this.reader.clear()
        await this.serial.send(encodeRequest(address, dataId, data))
        const deadline = ds.millis() + timeoutMs
        const replies: Buffer[] = []
        for (;;) {
            while (this.frames.length) {
                const f = this.frames.shift()
                if (f[2] === dataId) replies.push(f)
            }
            if (replies.length >= expected) return replies
            const left = deadline - ds.millis()
            if (left <= 0) return replies
            await ds.wait(this.arrived, left)
        }
    }
}
