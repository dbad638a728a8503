// The reset counter (product.md): every boot increments a persisted counter; quick presses of the
// reset button during the window continue the count; when the window ends the counter clears and
// 3 to 5 → access point mode (settings kept), 6 or more → factory defaults, then access point mode.
import { readSetting, writeSetting } from "@devicescript/settings"

/** How long after boot a press of the reset button continues the count. */
export const RESET_WINDOW_MS = 5000
export const AP_MODE_COUNT = 3
export const FACTORY_RESET_COUNT = 6
export const COUNTER_KEY = "resetCount"

export const OUTCOME_NORMAL = "normal"
export const OUTCOME_AP = "access_point"
export const OUTCOME_FACTORY = "factory_reset"

/** What the count means once the window has closed. Pure. */
export function outcomeFor(count: number) {
    if (count >= FACTORY_RESET_COUNT) return OUTCOME_FACTORY
    if (count >= AP_MODE_COUNT) return OUTCOME_AP
    return OUTCOME_NORMAL
}

/**
 * Counts this boot when it was a press of the reset button (or a power-on) and returns the counter.
 * Any other boot (a crash, a software reboot, a program restart) leaves the count as it was: a crash
 * loop never walks the counter into a factory reset.
 */
export async function countBoot(press: boolean) {
    let n = await readSetting<number>(COUNTER_KEY, 0)
    if (typeof n !== "number" || !(n >= 0) || n > 1000) n = 0 // a corrupted counter starts afresh
    if (!press) return n
    n++
    await writeSetting(COUNTER_KEY, n)
    return n
}

