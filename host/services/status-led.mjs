// The status LED (a Jacdac light bulb): its state is rendered on the host's console (stderr) and kept
// for tests. Fast blinking is summarised instead of printing every toggle.
import { jd } from "./jacdac.mjs"

const SUMMARY_MS = 1000

export class StatusLedServer extends jd.JDServiceServer {
    constructor({ render = () => {} } = {}) {
        super(jd.SRV_LIGHT_BULB, { instanceName: "statusLed" })
        this.render = render
        this.intensity = this.addRegister(0x01, [0])
        this.addRegister(0x180, [0]) // dimmable: no
        this.on_ = false
        this.transitions = [] // {at, on}, the last few hundred
        this.windowStart = Date.now()
        this.windowToggles = 0
        this.intensity.on(jd.CHANGE, () => this.update(this.intensity.values()[0] > 0))
    }

    get isOn() {
        return this.on_
    }

    update(on) {
        if (on === this.on_) return
        this.on_ = on
        const now = Date.now()
        this.transitions.push({ at: now, on })
        if (this.transitions.length > 500) this.transitions.shift()
        this.windowToggles++
        if (now - this.windowStart >= SUMMARY_MS) {
            this.render(this.windowToggles > 4 ? `LED blinking ${(this.windowToggles / 2 / ((now - this.windowStart) / 1000)).toFixed(1)} Hz` : `LED ${on ? "●" : "○"}`)
            this.windowStart = now
            this.windowToggles = 0
        }
    }

    /** Toggles per second over the last `ms` milliseconds. */
    blinkRate(ms = 2000) {
        const since = Date.now() - ms
        return this.transitions.filter(t => t.at >= since).length / (ms / 1000)
    }

    resetForBoot() {
        this.intensity.setValues([0])
    }
}
