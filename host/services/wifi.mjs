// The standard Jacdac Wi-Fi service (station mode), emulated: one network is "in range" and joining
// it gives the host's address. The jacdac-ts server would hand out a random address.
import { jd } from "./jacdac.mjs"

export class HostWifiServer extends jd.WifiServer {
    constructor({ ssid = "host-network", address = "127.0.0.1", onLink = () => {} } = {}) {
        super({ scanResults: [{ flags: 0, rssi: -42, channel: 6, bssid: new Uint8Array(6), ssid }] })
        this.hostAddress = new Uint8Array(address.split(".").map(Number))
        this.ipAddress.on(jd.CHANGE, () => onLink(this.ipAddress.values()[0]?.length === 4))
    }

    connect() {
        super.connect()
        if (this.ssid.values()[0]) this.ipAddress.setValues([this.hostAddress])
    }
}
