// The dongle's own watchdog: tasks that must keep making progress (the BMS poller, the accept loops
// of the web and Modbus servers) are checked every WATCHDOG_CHECK_MS. One that made no progress for
// WATCHDOG_LIMIT_MS is journaled (watchdog_reboot) and the dongle reboots itself: a software reboot,
// which does not count as a press of the reset button. A stall is noticed within 35 s.
import * as ds from "@devicescript/core"
import { FLAG_WATCHDOG_REBOOT } from "../journal/journal"
import { check, setDongleFlag } from "../journal/store"
import { startTask } from "../platform/tasks"

export const WATCHDOG_CHECK_MS = 5000
export const WATCHDOG_LIMIT_MS = 30000

const names: string[] = []
const lastProgress: (() => number)[] = []

/** Watches a task; `progressAt` gives the ds.millis() of its latest progress. */
export function watchTask(name: string, progressAt: () => number) {
    names.push(name)
    lastProgress.push(progressAt)
}

export function startWatchdog() {
    startTask("watchdog", async () => {
        for (;;) {
            await ds.sleep(WATCHDOG_CHECK_MS)
            for (let i = 0; i < names.length; i++) {
                const silentS = Math.round((ds.millis() - lastProgress[i]()) / 1000)
                if (silentS * 1000 <= WATCHDOG_LIMIT_MS) continue
                console.warn(`Watchdog: ${names[i]} made no progress for ${silentS} s; rebooting`)
                setDongleFlag(FLAG_WATCHDOG_REBOOT, true)
                await check()
                await ds.sleep(1500) // the journal reaches the flash, the line the console
                ds.reboot()
            }
        }
    })
}
