// The boot banner on the USB serial console.
import * as ds from "@devicescript/core"
import { FIRMWARE_NAME, FIRMWARE_VERSION } from "../firmware"

export function printBanner(resetCounter: number) {
    console.log(`${FIRMWARE_NAME} ${FIRMWARE_VERSION}`)
    console.log(`Device id: ${ds.deviceIdentifier("self")}`)
    console.log(`Board: ${ds._dcfgString("devName") || "unknown"} (${ds._dcfgString("archId") || "?"})`)
    console.log(`Reset counter: ${resetCounter}`)
}
