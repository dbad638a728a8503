// Periodic reset (docs/boot.md): on the chosen days (bit 0 = Monday), from the time of day on, the
// dongle reboots itself, at most preset.max times that day and never twice within MIN_GAP_MINUTES.
// The count of the day and the last reset time are written before the reboot, so they survive it.
import * as ds from "@devicescript/core"
import { readSetting, writeSetting } from "@devicescript/settings"
import { dateCode, isoTime, wallClock, WallClock, weekdayFromMonday } from "../platform/clock"
import { startTask } from "../platform/tasks"
import { setting } from "../settings/store"

export const MIN_GAP_MINUTES = 60
export const CHECK_MS = 5000
const STATE_KEY = "presetState"

export interface ResetState {
    /** the day the count belongs to, YYYYMMDD */
    day: string
    /** resets that day */
    count: number
    /** the last periodic reset, ISO time ("" never) */
    last: string
    /** the last reset, in minutes since 2000-01-01 (for the one-hour gap) */
    lastMinute: number
}

export interface ResetPlan {
    days: number // bitfield, bit 0 = Monday
    time: string // HH:MM
    max: number
}

/** Minutes since 2000-01-01 00:00 of a wall-clock time (days from the civil calendar). */
export function minuteOf(c: WallClock) {
    const y = c.month <= 2 ? c.year - 1 : c.year
    const era = Math.idiv(y, 400)
    const yoe = y - era * 400
    const mp = (c.month + 9) % 12
    const doy = Math.idiv(153 * mp + 2, 5) + c.day - 1
    const doe = yoe * 365 + Math.idiv(yoe, 4) - Math.idiv(yoe, 100) + doy
    const days = era * 146097 + doe - 730425 // 730425: days from 0000-03-01 to 2000-01-01
    return days * 1440 + c.hour * 60 + c.minute
}

/** Whether to reset now. Pure. */
export function resetDue(plan: ResetPlan, state: ResetState, c: WallClock) {
    if (!(plan.days & (1 << weekdayFromMonday(c)))) return false
    const at = parseInt(plan.time.slice(0, 2)) * 60 + parseInt(plan.time.slice(3, 5))
    if (c.hour * 60 + c.minute < at) return false
    const today = dateCode(c)
    const count = state.day === today ? state.count : 0
    if (count >= plan.max) return false
    if (state.lastMinute && minuteOf(c) - state.lastMinute < MIN_GAP_MINUTES) return false
    return true
}

/** The state after a reset now. Pure. */
export function afterReset(state: ResetState, c: WallClock): ResetState {
    const today = dateCode(c)
    return { day: today, count: (state.day === today ? state.count : 0) + 1, last: isoTime(c), lastMinute: minuteOf(c) }
}

let state: ResetState = { day: "", count: 0, last: "", lastMinute: 0 }

/** For the API: resets today and the last one. */
export async function periodicResetStatus() {
    const c = await wallClock()
    return { resets_today: c && state.day === dateCode(c) ? state.count : 0, last_reset: state.last }
}

export async function startPeriodicReset() {
    const stored = await readSetting<ResetState>(STATE_KEY, null)
    if (stored && typeof stored.day === "string" && typeof stored.count === "number") state = stored
    if (!setting("preset.on")) return
    console.log(`Periodic reset: at ${setting("preset.time")}, days 0x${Buffer.from([setting("preset.days")]).toString("hex")}, at most ${setting("preset.max")} a day (${state.count} on ${state.day || "-"})`)
    startTask("periodic reset", async () => {
        for (;;) {
            await ds.sleep(CHECK_MS)
            const c = await wallClock()
            if (!c) continue // no clock, no schedule
            const plan: ResetPlan = { days: setting("preset.days"), time: setting("preset.time"), max: setting("preset.max") }
            if (!resetDue(plan, state, c)) continue
            state = afterReset(state, c)
            await writeSetting(STATE_KEY, state)
            console.log(`Periodic reset: rebooting (${state.count} today, at ${state.last})`)
            await ds.sleep(1500) // the state reaches the flash, the line reaches the console
            ds.reboot()
        }
    })
}
