// Wall-clock time from the standard Real Time Clock service (the RTC on the dongle, the system time
// on the host). `null` while it is unknown: callers must not invent a 1970 date.
import * as ds from "@devicescript/core"

export interface WallClock {
    year: number
    month: number
    day: number
    hour: number
    minute: number
    second: number
}

/** Before this year the clock is taken as not set. */
export const FIRST_VALID_YEAR = 2024

// created when the firmware starts, so the role is bound by the time anyone asks
const rtc = new ds.RealTimeClock()

export async function wallClock(): Promise<WallClock> {
    if (!rtc.isBound) return null
    const r = await rtc.reading.read()
    if (!r || r[0] < FIRST_VALID_YEAR) return null
    return { year: r[0], month: r[1], day: r[2], hour: r[4], minute: r[5], second: r[6] }
}
