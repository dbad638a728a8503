// Boot: settings, banner and reset counter, the window with its LED, then the outcome of the count
// and the network.
import * as ds from "@devicescript/core"
import { writeSetting } from "@devicescript/settings"
import { printBanner } from "../console/banner"
import { setLedInputs, startStatusLed } from "../led/status-led"
import { forgetNetworks, startNetwork } from "../net/wifi"
import { factoryReset, loadSettings } from "../settings/store"
import { BootReason, readBootReason, REASON_NAMES, REASON_PANIC, REASON_POWER_ON, REASON_UNKNOWN, REASON_WATCHDOG } from "./reset-reason"
import { COUNTER_KEY, countBoot, outcomeFor, OUTCOME_AP, OUTCOME_FACTORY, RESET_WINDOW_MS } from "./reset-counter"

/** Wipes every setting and the Wi-Fi networks. The caller brings up the access point. */
export async function restoreFactoryDefaults() {
    setLedInputs({ factoryReset: true })
    console.log("Factory reset: wiping every setting, Wi-Fi networks and passwords")
    await factoryReset()
    await forgetNetworks()
    setLedInputs({ factoryReset: false })
    console.log("Factory reset: done")
}

/** The reset counter this boot counted (the stored counter clears when the window closes). */
export let bootResetCounter = 0
let windowEndsAt = 0
let reason: BootReason = null

/** Why this boot happened (read once at boot). */
export function bootReason() {
    return reason
}

/** Did this boot follow a crash (a panic or a watchdog reset)? */
export function bootWasCrash() {
    return reason !== null && (reason.reason === REASON_PANIC || reason.reason === REASON_WATCHDOG)
}

/**
 * Factory reset as an action (the web page's button): wipes everything, then restarts the program,
 * which boots with factory settings, that is, into access point mode.
 */
export async function factoryResetAndRestart() {
    await restoreFactoryDefaults()
    console.log("Factory reset: restarting in access point mode")
    ds.restart()
}

/** Settings, reset counter, banner; opens the reset window (the LED flashes). */
export async function beginBoot() {
    await loadSettings()
    reason = await readBootReason()
    // only a power-on or the reset button (unknown: a runtime without the service) counts as a press
    bootResetCounter = await countBoot(reason.reason === REASON_POWER_ON || reason.reason === REASON_UNKNOWN)
    windowEndsAt = ds.millis() + RESET_WINDOW_MS
    await printBanner(bootResetCounter, REASON_NAMES[reason.reason] + (reason.detail ? ` (${reason.detail})` : ""))
    startStatusLed()
    setLedInputs({ resetWindow: true })
}

/** Waits for the window to close, acts on the count, brings up the network. */
export async function finishBoot() {
    const left = windowEndsAt - ds.millis()
    if (left > 0) await ds.sleep(left)
    await writeSetting(COUNTER_KEY, 0) // the window closed: the counter clears
    const outcome = outcomeFor(bootResetCounter)
    if (outcome === OUTCOME_FACTORY) {
        console.log(`Reset counter ${bootResetCounter}: restoring factory defaults, then access point mode`)
        await restoreFactoryDefaults()
    } else if (outcome === OUTCOME_AP) console.log(`Reset counter ${bootResetCounter}: access point mode (settings kept)`)
    else console.log(`Reset counter ${bootResetCounter}: normal start`)
    await startNetwork(outcome !== "normal")
    setLedInputs({ resetWindow: false }) // after the network set its own LED state: no flicker between
}
