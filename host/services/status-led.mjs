// The status LED (a Jacdac light bulb): its state is rendered on the host's console (stderr) and kept
// for tests. The pattern is recognised from the toggles and printed once per change of pattern,
// never per blink.
import { jd } from "./jacdac.mjs"

const SUMMARY_MS = 500
/** Long enough to hold three cycles of the slowest pattern (3 s): always two whole groups of blinks. */
const WINDOW_MS = 9500
/**
 * A pattern is shown once it has been seen the same for a whole window: by then the window holds
 * only the new pattern, so a mix of the old and the new one is never shown.
 */
const STABLE_MS = WINDOW_MS

const round = (x, step) => Math.round(x / step) * step

/**
 * What a person sees, from the LED's transitions ({at, on}, oldest first) up to `now`: "LED off",
 * "LED on", "LED blinking 2 Hz" (even blinking), or "LED 2 short blinks every 3 s". Pure.
 */
export function describeLed(transitions, on, now) {
    const recent = transitions.filter(t => t.at >= now - WINDOW_MS)
    const rises = recent.filter(t => t.on).map(t => t.at)
    if (!recent.some(t => t.at >= now - 3500) || rises.length < 2) return on ? "LED on" : "LED off"
    const gaps = rises.slice(1).map((t, i) => t - rises[i])
    const longest = Math.max(...gaps)
    const shortest = Math.min(...gaps)
    if (longest < shortest * 1.5) {
        const onTimes = []
        for (let i = 0; i + 1 < recent.length; i++) if (recent[i].on && !recent[i + 1].on) onTimes.push(recent[i + 1].at - recent[i].at)
        const period = gaps.reduce((a, b) => a + b, 0) / gaps.length
        const onShare = onTimes.length ? onTimes.reduce((a, b) => a + b, 0) / onTimes.length / period : 0.5
        if (onShare < 0.25) return `LED 1 short blink every ${round(period / 1000, 0.5)} s`
        const hz = 1000 / period
        return `LED blinking ${hz >= 1.5 ? Math.round(hz) : round(hz, 0.1).toFixed(1)} Hz`
    }
    // groups of blinks: the starts of the groups are the rises after a long gap
    const starts = []
    gaps.forEach((g, i) => g >= longest / 2 && starts.push(i + 1))
    if (starts.length < 2) return on ? "LED on" : "LED off" // not one whole group seen yet
    const [a, b] = starts.slice(-2)
    return `LED ${b - a} short blink${b - a > 1 ? "s" : ""} every ${round((rises[b] - rises[a]) / 1000, 0.5)} s`
}

export class StatusLedServer extends jd.JDServiceServer {
    constructor({ render = () => {} } = {}) {
        super(jd.SRV_LIGHT_BULB, { instanceName: "statusLed" })
        this.render = render
        this.intensity = this.addRegister(0x01, [0])
        this.addRegister(0x180, [0]) // dimmable: no
        this.on_ = false
        this.transitions = [] // {at, on}, the last few hundred
        this.shown = ""
        this.seen = "" // the description now, shown once stable
        this.seenSince = 0
        this.intensity.on(jd.CHANGE, () => this.update(this.intensity.values()[0] > 0))
        this.timer = setInterval(() => this.show(), SUMMARY_MS)
        this.timer.unref()
    }

    /** What a person sees now (see describeLed). */
    describe() {
        return describeLed(this.transitions, this.on_, Date.now())
    }

    show() {
        const d = this.describe()
        const now = Date.now()
        if (d !== this.seen) {
            this.seen = d
            this.seenSince = now
        }
        if (d !== this.shown && now - this.seenSince >= STABLE_MS) {
            this.shown = d
            this.render(d)
        }
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
