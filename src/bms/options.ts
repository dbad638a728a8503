// The BMS options, from the settings store.
import { setting, updateSettings } from "../settings/store"

export function bmsOptions() {
    return { address: setting("bms.addr") as number, invertCurrent: setting("bms.invert") as boolean }
}

export async function rememberAddress(address: number) {
    console.log(`BMS answers on address 0x${Buffer.from([address]).toString("hex")}; remembered`)
    await updateSettings({ "bms.addr": address })
}
