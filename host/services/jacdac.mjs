// jacdac-ts, loaded as CommonJS: its ES module build cannot require("net") for the socket transport.
import { createRequire } from "node:module"
export const jd = createRequire(import.meta.url)("jacdac-ts")

/** Serialises reports so that a server's packets reach the bus in the order they were made. */
export class ReportQueue {
    constructor(server) {
        this.server = server
        this.chain = Promise.resolve()
    }

    send(code, fmt, values) {
        const payload = fmt ? jd.jdpack(fmt, values) : new Uint8Array(0)
        const pkt = jd.Packet.from(code, payload)
        this.chain = this.chain.then(() => this.server.sendPacketAsync(pkt)).catch(() => {})
        return this.chain
    }
}
