// Host emulation of services/wifiaccesspoint.md: the mode and addresses are reported as a dongle
// would; on a PC the "access point" is the loopback interface the services listen on.
import { jd, ReportQueue } from "./jacdac.mjs"

export const WIFI_ACCESS_POINT_CLASS = 0x1d0a8f43
export const Mode = { Offline: 0, Station: 1, AccessPoint: 2 }
export const ApStatus = { Ok: 0, BadSsid: 1, BadPassword: 2, Failed: 3 }
const MODE_NAMES = ["offline", "station", "access point"]

export class AccessPointServer extends jd.JDServiceServer {
    constructor({ address = "127.0.0.1", log = () => {} } = {}) {
        super(WIFI_ACCESS_POINT_CLASS)
        this.address = new Uint8Array(address.split(".").map(Number))
        this.log = log
        this.reports = new ReportQueue(this)
        this.hostname = this.addRegister(0x80, ["esp32c3"])
        this.mode = this.addRegister(0x180, [Mode.Offline])
        this.ipAddress = this.addRegister(0x181, [new Uint8Array(4)])
        this.apSsid = this.addRegister(0x182, [""])
        this.apClients = this.addRegister(0x183, [0])
        this.stationConnected = false
        this.hostname.on(jd.CHANGE, () => this.log(`hostname set to ${this.hostname.values()[0]}`))
        this.addCommand(0x80, p => this.onStartAp(p.data))
        this.addCommand(0x81, () => this.onStopAp())
    }

    setMode(mode) {
        if (this.mode.values()[0] === mode) return
        this.mode.setValues([mode])
        this.ipAddress.setValues([mode === Mode.Offline ? new Uint8Array(4) : this.address])
        this.log(`Wi-Fi mode: ${MODE_NAMES[mode]}`)
        this.sendEvent(0x80, jd.jdpack("u8", [mode])).catch(() => {})
    }

    /** The emulated station link (the standard Wi-Fi service) came up or went down. */
    setStationConnected(up) {
        this.stationConnected = up
        if (!this.apSsid.values()[0]) this.setMode(up ? Mode.Station : Mode.Offline)
    }

    onStartAp(data) {
        const [channel, ssid, password] = jd.jdunpack(data, "u8 z z")
        let status = ApStatus.Ok
        if (!ssid || Buffer.byteLength(ssid) > 32) status = ApStatus.BadSsid
        else if (password && (password.length < 8 || password.length > 63)) status = ApStatus.BadPassword
        else if (channel > 13) status = ApStatus.Failed
        if (status === ApStatus.Ok) {
            this.apSsid.setValues([ssid])
            this.log(`access point "${ssid}" up (${password ? "WPA2" : "open"}, channel ${channel || "auto"})`)
            this.setMode(Mode.AccessPoint)
        }
        this.reports.send(0x80, "u8", [status])
    }

    onStopAp() {
        if (!this.apSsid.values()[0]) return
        this.apSsid.setValues([""])
        this.log("access point down")
        this.setMode(this.stationConnected ? Mode.Station : Mode.Offline)
    }

    /** Chip reset: the radio starts off. */
    resetForBoot() {
        this.apSsid.setValues([""])
        this.apClients.setValues([0])
        this.mode.setValues([Mode.Offline])
        this.ipAddress.setValues([new Uint8Array(4)])
    }
}
