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

const two = (n: number) => (n < 10 ? "0" : "") + n

/** ISO 8601 local time of the dongle's clock, without offset: 2026-11-21T20:48:27 */
export function isoTime(c: WallClock) {
    return `${c.year}-${two(c.month)}-${two(c.day)}T${two(c.hour)}:${two(c.minute)}:${two(c.second)}`
}

/** 20261121 */
export function dateCode(c: WallClock) {
    return `${c.year}${two(c.month)}${two(c.day)}`
}

/** Day of the week from the date itself, 0 = Monday .. 6 = Sunday (Sakamoto's method). */
export function weekdayFromMonday(c: WallClock) {
    const t = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4]
    const y = c.month < 3 ? c.year - 1 : c.year
    const sundayFirst = (y + Math.idiv(y, 4) - Math.idiv(y, 100) + Math.idiv(y, 400) + t[c.month - 1] + c.day) % 7
    return (sundayFirst + 6) % 7
}
