// Until the full poller lands (issue 3): read 0x90 now and then and print the pack on the console.
import * as ds from "@devicescript/core"
import { ADDRESS_PC, decodePackBasics } from "./frame"
import { BmsUart } from "./uart"
import { fixed } from "../console/format"

const PERIOD_MS = 5000
const REPLY_TIMEOUT_MS = 300

export async function startBmsProbe() {
    const uart = new BmsUart()
    await uart.start()
    for (;;) {
        const frames = await uart.request(ADDRESS_PC, 0x90, 1, REPLY_TIMEOUT_MS)
        const pack = frames.length ? decodePackBasics(frames[0]) : null
        if (pack) console.log(`BMS: ${fixed(pack.voltageV, 1)} V ${fixed(pack.currentA, 1)} A ${fixed(pack.socPct, 1)} %`)
        else console.log(`BMS: no answer`)
        await ds.sleep(PERIOD_MS)
    }
}
