// The standard Jacdac Serial service, wired to the BMS link (virtual BMS, capture replay or a real
// serial port). Note the quirk of the spec: the `send` command and the `received` report share 0x80.
import { jd } from "./jacdac.mjs"

const CMD_SEND = 0x80
const REPORT_RECEIVED = 0x80
const MAX_PAYLOAD = 236

export class BmsSerialServer extends jd.JDServiceServer {
    constructor(link) {
        super(jd.SRV_SERIAL, { instanceName: "bms" })
        this.enabled = this.addRegister(0x01, [true])
        this.baudRate = this.addRegister(0x80, [9600])
        this.dataBits = this.addRegister(0x81, [8])
        this.stopBits = this.addRegister(0x82, [1])
        this.parityMode = this.addRegister(0x83, [0])
        this.bufferSize = this.addRegister(0x84, [256])
        this.addRegister(0x181, ["bms"])
        this.addCommand(CMD_SEND, pkt => this.link?.write(Buffer.from(pkt.data)))
        this.baudRate.on(jd.CHANGE, () => this.link?.setBaudRate?.(this.baudRate.values()[0]))
        this.setLink(link)
    }

    setLink(link) {
        if (this.link) this.link.removeListener("data", this.onData)
        this.link = link
        this.onData = bytes => this.deliver(bytes)
        link.on("data", this.onData)
    }

    deliver(bytes) {
        for (let off = 0; off < bytes.length; off += MAX_PAYLOAD) {
            const pkt = jd.Packet.from(REPORT_RECEIVED, new Uint8Array(bytes.subarray(off, off + MAX_PAYLOAD)))
            this.sendPacketAsync(pkt).catch(() => {})
        }
    }
}
