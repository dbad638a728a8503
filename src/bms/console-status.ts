// The BMS on the console: one line per link state change, and a short status line every
// STATUS_PERIOD_MS.
import * as ds from "@devicescript/core"
import { fixed } from "../console/format"
import { LINK_ERROR, LINK_OK } from "./link-state"
import { bmsLink, currentSnapshot, lastSnapshot, linkChanged } from "./store"

export const STATUS_PERIOD_MS = 10000

export function statusLine() {
    const s = currentSnapshot()
    if (s)
        return `BMS: ${fixed(s.voltageV, 1)} V ${fixed(s.currentA, 1)} A ${fixed(s.socPct, 1)} % cells ${fixed(s.cellMinMv / 1000, 3)}-${fixed(s.cellMaxMv / 1000, 3)} V link ok`
    const last = lastSnapshot
    const ago = last ? `, last data ${Math.round((ds.millis() - last.readAtMs) / 1000)} s ago` : ""
    return `BMS: link ${bmsLink}${ago}`
}

export function startConsoleStatus() {
    linkChanged.subscribe(state => {
        if (state === LINK_OK) {
            const s = currentSnapshot()
            const addr = "0x" + Buffer.from([s.address]).toString("hex")
            console.log(`BMS link: ok (protocol ${s.protocol}, address ${addr}, ${s.cellsMv.length} cells, ${s.tempsC.length} temperature sensors)`)
        } else if (state === LINK_ERROR) console.log(`BMS link: bms_data_error (the BMS does not answer: asleep, unplugged or miswired)`)
    })
    setInterval(() => console.log(statusLine()), STATUS_PERIOD_MS)
}
