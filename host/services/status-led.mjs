// The status LED (a Jacdac light bulb): its state is rendered on the host's console (stderr) and kept
// for tests. Fast blinking is summarised instead of printing every toggle.
import { jd } from "./jacdac.mjs"

const SUMMARY_MS = 1000
const WINDOW_MS = 2000

export class StatusLedServer extends jd.JDServiceServer {
    constructor({ render = () => {} } = {}) {
        super(jd.SRV_LIGHT_BULB, { instanceName: "statusLed" })
        this.render = render
        this.intensity = this.addRegister(0x01, [0])
        this.addRegister(0x180, [0]) // dimmable: no
        this.on_ = false
        this.transitions = [] // {at, on}, the last few hundred
        this.shown = ""
        this.intensity.on(jd.CHANGE, () => this.update(this.intensity.values()[0] > 0))
        this.timer = setInterval(() => this.show(), SUMMARY_MS)
        this.timer.unref()
    }

    /** What a person sees: "LED off", "LED on", or "LED blinking N Hz" over the last 2 s. */
    describe() {
        const toggles = this.transitions.filter(t => t.at >= Date.now() - WINDOW_MS).length
        if (toggles <= 1) return this.on_ ? "LED on" : "LED off"
        const hz = toggles / 2 / (WINDOW_MS / 1000)
        return `LED blinking ${hz >= 2 ? Math.round(hz) : hz.toFixed(1)} Hz`
    }

    show() {
        const d = this.describe()
        if (d !== this.shown) this.render(d)
        this.shown = d
    }

    dispose() {
        clearInterval(this.timer)
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
