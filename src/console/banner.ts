// The boot banner on the USB serial console.
import * as ds from "@devicescript/core"
import { FIRMWARE_NAME, FIRMWARE_VERSION } from "../firmware"
import { accessPointPassword, accessPointSsid } from "../net/wifi"

export async function printBanner(resetCounter: number, resetReason: string) {
    console.log(`${FIRMWARE_NAME} ${FIRMWARE_VERSION}`)
    console.log(`Device id: ${ds.deviceIdentifier("self")}`)
    console.log(`Board: ${ds._dcfgString("devName") || "unknown"} (${ds._dcfgString("archId") || "?"})`)
    console.log(`Setup access point: ${accessPointSsid(ds.deviceIdentifier("self"))}, WPA2 password ${await accessPointPassword()}`)
    console.log(`Reset reason: ${resetReason}`)
    console.log(`Reset counter: ${resetCounter}`)
}
