// The BMS options, from the settings store.
import { setting, updateSettings } from "../settings/store"

/**
 * `found`: what answered last, protocol << 8 | request address (bms.proto; an 0xA5 address of the
 * first settings version, bms.addr, counts too); `force`: the only protocol tried (0: detect).
 */
export function bmsOptions() {
    const a5 = setting("bms.addr") as number
    return {
        found: (setting("bms.proto") as number) || (a5 ? 0x100 | a5 : 0),
        force: setting("bms.force") as number,
        board: setting("bms.board") as number,
        invertCurrent: setting("bms.invert") as boolean,
    }
}

export async function rememberProtocol(found: number, name: string) {
    console.log(`BMS answers on address 0x${Buffer.from([found & 0xff]).toString("hex")}; remembered (protocol ${name})`)
    await updateSettings({ "bms.proto": found })
}
