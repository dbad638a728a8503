// The BMS options kept in flash settings (keys at most 13 characters).
import { readSetting, writeSetting } from "@devicescript/settings"

const ADDRESS_KEY = "bmsAddress"
const INVERT_KEY = "bmsInvertCur"

export async function bmsOptions() {
    const address = (await readSetting<number>(ADDRESS_KEY, 0)) || 0
    const invertCurrent = !!(await readSetting<boolean>(INVERT_KEY, false))
    return { address: address === 0x40 || address === 0x80 ? address : 0, invertCurrent }
}

export async function rememberAddress(address: number) {
    console.log(`BMS answers on address 0x${Buffer.from([address]).toString("hex")}; remembered`)
    await writeSetting(ADDRESS_KEY, address)
}
