// The boot banner on the USB serial console.
import * as ds from "@devicescript/core"
import { FIRMWARE_NAME, FIRMWARE_VERSION } from "../firmware"

export function printBanner(bootNumber: number) {
    console.log(`${FIRMWARE_NAME} ${FIRMWARE_VERSION}`)
    console.log(`Device id: ${ds.deviceIdentifier("self")}`)
    console.log(`Boot number: ${bootNumber}`)
}
