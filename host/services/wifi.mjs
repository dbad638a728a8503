// The standard Jacdac Wi-Fi service (station mode), emulated: networks "in range" are a list the
// tests control; joining one gives the host's address. Built on the jacdac-ts server, with its
// reconnect fixed (it sets `enabled` to the value it already has, so it never connects) and the
// host's address instead of a random one. The signal (`rssi`, dBm) is the machine's own: the level
// of its first wireless interface in /proc/net/wireless (a Raspberry Pi on Wi-Fi); a machine without
// one does not serve the register, as a platform that does not report it.
import fs from "node:fs"
import { jd } from "./jacdac.mjs"

const RSSI_REGISTER = 0x101
const SIGNAL_REFRESH_MS = 5000

/** The signal level (dBm) of the first interface in a /proc/net/wireless text, or null. Pure. */
export function wirelessLevel(text) {
    for (const line of text.split("\n").slice(2)) {
        const f = line.trim().split(/\s+/)
        if (f.length >= 5 && f[0].endsWith(":")) {
            const level = Math.round(Number.parseFloat(f[3]))
            if (Number.isFinite(level)) return Math.max(-128, Math.min(127, level))
        }
    }
    return null
}

function readLevel(file) {
    try {
        return wirelessLevel(fs.readFileSync(file, "utf8"))
    } catch {
        return null
    }
}

export class HostWifiServer extends jd.WifiServer {
    constructor({ inRange = ["host-network"], address = "127.0.0.1", onLink = () => {}, wirelessFile = "/proc/net/wireless" } = {}) {
        super({ scanResults: inRange.map(ssid => ({ flags: 0, rssi: -42, channel: 6, bssid: new Uint8Array(6), ssid })) })
        this.hostAddress = new Uint8Array(address.split(".").map(Number))
        this.ipAddress.on(jd.CHANGE, () => onLink(this.ipAddress.values()[0]?.length === 4))
        const level = readLevel(wirelessFile)
        if (level !== null) {
            const rssi = this.addRegister(RSSI_REGISTER, [level])
            this.signalTimer = setInterval(() => {
                const now = readLevel(wirelessFile)
                // -128: the chip's "not connected"
                rssi.setValues([now ?? -128])
            }, SIGNAL_REFRESH_MS)
            this.signalTimer.unref()
        }
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
