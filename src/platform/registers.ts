// Reads registers' raw bytes with a GET and its report. Needed for fixed-size byte registers
// (IP addresses), whose decoded value DeviceScript 2.16.4 does not refresh after a change.
import * as ds from "@devicescript/core"
import { onEveryReport } from "./tasks"
import { Signal } from "./signal"

const CMD_GET_REGISTER = 0x1000

export class RegisterReader {
    private values: Record<string, Buffer> = {}
    private readonly arrived = new Signal()

    constructor(private role: ds.Role) {
        const self = this
        onEveryReport(role, (pkt: ds.Packet) => self.onPacket(pkt))
    }

    private onPacket(pkt: ds.Packet) {
        if (!pkt.isReport || (pkt.serviceCommand & 0xf000) !== CMD_GET_REGISTER) return
        this.values[pkt.serviceCommand + ""] = pkt.payload
        this.arrived.emit(pkt.serviceCommand)
    }

    /** The register's bytes now, or null when the server does not answer within `timeoutMs`. */
    async read(register: number, timeoutMs = 1000): Promise<Buffer> {
        const code = CMD_GET_REGISTER | register
        delete this.values[code + ""]
        await this.role.sendCommand(code)
        const deadline = ds.millis() + timeoutMs
        while (!this.values[code + ""] && ds.millis() < deadline) await this.arrived.wait(deadline - ds.millis())
        return this.values[code + ""] || null
    }
}
