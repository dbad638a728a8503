// 9600-baud wire timing: bytes leave the BMS one every 1.04 ms. The UART driver of the dongle hands
// them on in chunks, as the ESP32-C3's does: at its RX FIFO threshold (120 of the FIFO's 128 bytes)
// or when the line goes quiet (RX timeout). A BMS reply is one burst, so it arrives whole (a 0xA5
// cell-voltage reply of six frames is one chunk), and a longer one in 120-byte pieces. Each chunk is
// one `received` report to the firmware: a chunk per 13-byte frame cost the host a third more frames
// on the VM link while idle (docs/host-runtime.md, "Idle cost").
import { EventEmitter } from "node:events"

export const BAUD = 9600
export const BYTE_MS = (10 * 1000) / BAUD // 8N1: 10 bits per byte
const CHUNK_BYTES = 120 // the RX FIFO threshold of ESP-IDF's UART driver

export class Wire extends EventEmitter {
    constructor() {
        super()
        this.busyUntilMs = 0
        this.timers = new Set()
    }

    /** When bytes written now would finish arriving, given what is already on the wire. */
    transmitDoneAt(byteCount, startMs = Date.now()) {
        return Math.max(startMs, this.busyUntilMs) + byteCount * BYTE_MS
    }

    /** Put `bytes` on the wire starting no earlier than `startMs`; emits "data" chunks in time. */
    send(bytes, startMs = Date.now()) {
        bytes = Buffer.from(bytes)
        if (!bytes.length) return
        const begin = Math.max(startMs, this.busyUntilMs)
        this.busyUntilMs = begin + bytes.length * BYTE_MS
        for (let off = 0; off < bytes.length; off += CHUNK_BYTES) {
            const chunk = bytes.subarray(off, off + CHUNK_BYTES)
            const at = begin + (off + chunk.length) * BYTE_MS
            const timer = setTimeout(() => {
                this.timers.delete(timer)
                this.emit("data", chunk)
            }, Math.max(0, at - Date.now()))
            this.timers.add(timer)
        }
    }

    close() {
        for (const t of this.timers) clearTimeout(t)
        this.timers.clear()
    }
}
