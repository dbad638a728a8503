// The real-time clock service from the system time, with an offset the tests control (a day
// rollover, a chosen weekday) and a "not set" state (the RTC of a dongle that never had the time).
import { jd } from "./jacdac.mjs"

export class HostClockServer extends jd.RealTimeClockServer {
    constructor({ at, unset = false } = {}) {
        super()
        this.offsetMs = at ? new Date(at).getTime() - Date.now() : 0
        this.unset = unset
    }

    now() {
        return new Date(Date.now() + this.offsetMs)
    }

    /** Sets the clock to `date` (it runs on from there). */
    setTime(date) {
        this.unset = false
        this.offsetMs = new Date(date).getTime() - Date.now()
        this.lastSecond = -1
        this.refreshTime()
    }

    refreshTime() {
        const d = this.unset ? new Date(1970, 0, 1, 0, 0, Math.floor(Date.now() / 1000) % 60) : this.now()
        if (d.getSeconds() !== this.lastSecond) {
            this.reading.setValues(jd.dateToClock(d))
            this.lastSecond = d.getSeconds()
        }
    }
}
