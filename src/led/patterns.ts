// The status LED's patterns (README table): what a user reads without a screen. Each pattern is a
// list of on/off durations in ms, starting with on and repeating. Pure.
import { splitText } from "../platform/text"

export const LED_RESET_WINDOW = "reset_window"
export const LED_FACTORY_RESET = "factory_reset"
export const LED_AP_MODE = "ap_mode"
export const LED_CONNECTING = "connecting"
export const LED_BMS_ERROR = "bms_not_answering"
export const LED_UPLINK_FAILING = "uplink_failing"
export const LED_NORMAL = "normal"

/**
 * "|pattern on off ...": reset window very quick flashing (10 Hz); factory reset steady on while the
 * settings are wiped; access point slow even blink; connecting quick even blink; BMS error two blinks
 * every 3 s; uplink failing three blinks every 3 s; anything else (normal) one short blink every 3 s.
 * A table in a string costs no bytecode.
 */
const STEPS =
    "|reset_window 50 50|factory_reset 2000 0|ap_mode 1000 1000|connecting 250 250|bms_not_answering 150 250 150 2450|uplink_failing 150 250 150 250 150 2050|normal 150 2850|"

export function patternSteps(name: string): number[] {
    let at = STEPS.indexOf(`|${name} `)
    if (at < 0) at = STEPS.indexOf(`|${LED_NORMAL} `)
    const r: number[] = []
    for (const w of splitText(STEPS.slice(STEPS.indexOf(" ", at) + 1, STEPS.indexOf("|", at + 1)), " ")) r.push(parseInt(w))
    return r
}

export interface LedInputs {
    resetWindow: boolean
    factoryReset: boolean
    accessPoint: boolean
    stationConnected: boolean
    bmsError: boolean
    uplinkFailing: boolean
}

/** The pattern for the dongle's state: the most urgent thing a user must know first. */
export function ledPatternFor(s: LedInputs) {
    if (s.factoryReset) return LED_FACTORY_RESET
    if (s.resetWindow) return LED_RESET_WINDOW
    if (s.accessPoint) return LED_AP_MODE
    if (!s.stationConnected) return LED_CONNECTING
    if (s.bmsError) return LED_BMS_ERROR
    if (s.uplinkFailing) return LED_UPLINK_FAILING
    return LED_NORMAL
}
