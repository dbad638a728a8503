// The standard Jacdac Wi-Fi service (station mode), emulated: networks "in range" are a list the
// tests control; joining one gives the host's address. Built on the jacdac-ts server, with its
// reconnect fixed (it sets `enabled` to the value it already has, so it never connects) and the
// host's address instead of a random one.
import { jd } from "./jacdac.mjs"

export class HostWifiServer extends jd.WifiServer {
    constructor({ inRange = ["host-network"], address = "127.0.0.1", onLink = () => {} } = {}) {
        super({ scanResults: inRange.map(ssid => ({ flags: 0, rssi: -42, channel: 6, bssid: new Uint8Array(6), ssid })) })
        this.hostAddress = new Uint8Array(address.split(".").map(Number))
        this.ipAddress.on(jd.CHANGE, () => onLink(this.ipAddress.values()[0]?.length === 4))
    }

    handleReconnect() {
        this.disconnect()
        if (this.scannedKnownNetworks.length) this.connect()
    }

    connect() {
        const network = this.scannedKnownNetworks[0]
        this.ssid.setValues([network?.ssid ?? ""])
        this.ipAddress.setValues([network ? this.hostAddress : new Uint8Array(0)])
    }

    /** Puts a network in or out of range; the station drops a network that went out of range. */
    setInRange(ssid, inRange) {
        this._lastScanResults = this._lastScanResults.filter(n => n.ssid !== ssid)
        if (inRange) this._lastScanResults.push({ flags: 0, rssi: -42, channel: 6, bssid: new Uint8Array(6), ssid })
        else if (this.ssid.values()[0] === ssid) this.disconnect()
    }

    resetForBoot() {
        this.disconnect()
        this._knownNetworks = []
    }
}
