// Why the program started (services/resetreason.md): the chip's reset reason on the dongle, the host
// runtime's record on a PC. Only a power-on or a press of the reset button advances the reset
// counter; a crash is journaled. A runtime without the service (a stock image) reads as `unknown`,
// which counts like a press so that the reset-button recovery keeps working there.
import * as ds from "@devicescript/core"

export const REASON_UNKNOWN = 0
export const REASON_POWER_ON = 1
export const REASON_SOFTWARE = 2
export const REASON_PANIC = 3
export const REASON_WATCHDOG = 4
export const REASON_PROGRAM_RESTART = 5
export const REASON_BROWNOUT = 6
export const REASON_NAMES = ["unknown", "power_on", "software", "panic", "watchdog", "program_restart", "brownout"]

/** How long the service gets to appear at boot (roles bind in about a second). */
const BIND_TIMEOUT_MS = 2500

export interface BootReason {
    reason: number
    detail: string
}


/** Reads the reason once and acknowledges it, so a later program start is not taken for a reset. */
export async function readBootReason(): Promise<BootReason> {
    const role = new ds.ResetReason()
    const deadline = ds.millis() + BIND_TIMEOUT_MS
    while (!role.isBound && ds.millis() < deadline) await ds.sleep(20)
    if (!role.isBound) return { reason: REASON_UNKNOWN, detail: "no reset reason service" }
    const reason = (await role.reason.read()) as number
    const detail = (await role.detail.read()) || ""
    await role.acknowledge()
    return { reason: reason >= 0 && reason < REASON_NAMES.length ? reason : REASON_UNKNOWN, detail }
}
