// The status LED's patterns (README table): what a user reads without a screen. Each pattern is a
// list of on/off durations in ms, starting with on and repeating. Pure.
export const LED_RESET_WINDOW = "reset_window"
export const LED_FACTORY_RESET = "factory_reset"
export const LED_AP_MODE = "ap_mode"
export const LED_CONNECTING = "connecting"
export const LED_BMS_ERROR = "bms_not_answering"
export const LED_UPLINK_FAILING = "uplink_failing"
export const LED_NORMAL = "normal"

export function patternSteps(name: string): number[] {
    if (name === LED_RESET_WINDOW) return [50, 50] // very quick flashing, 10 Hz
    if (name === LED_FACTORY_RESET) return [2000, 0] // steady on while the settings are wiped
    if (name === LED_AP_MODE) return [1000, 1000] // slow even blink
    if (name === LED_CONNECTING) return [250, 250] // quick even blink
    if (name === LED_BMS_ERROR) return [150, 250, 150, 2450] // two blinks every 3 s
    if (name === LED_UPLINK_FAILING) return [150, 250, 150, 250, 150, 2050] // three blinks every 3 s
    return [150, 2850] // normal: one short blink every 3 s
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
