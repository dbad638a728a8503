// How many times the dongle has started, kept in flash settings (it survives resets and power loss).
import { readSetting, writeSetting } from "@devicescript/settings"

const KEY = "boots"

export async function countBoot() {
    const n = ((await readSetting<number>(KEY, 0)) || 0) + 1
    await writeSetting(KEY, n)
    return n
}
