// GET /api/status (docs/api.md): the device and the battery, with the field names every uplink uses.
// Measurements are null unless the snapshot is current; the last good one is given apart. Pure.
import { BmsSnapshot } from "../bms/snapshot"
import { BodyWriter } from "./http"

export interface DeviceInfo {
    id: string
    firmware: string
    uptime_s: number
    mode: string
    ip: string
    hostname: string
    /** the reset counter of this boot */
    reset_counter: number
}

/**
 * The `bms` fields: JSON name and snapshot field, in order (a table in a string: strings cost no
 * bytecode; walked per use, it holds no heap). The newer units' extras (docs/bms.md) are null where a unit does not report them.
 */
const FIELDS = "voltage_v voltageV current_a currentA power_w powerW soc_pct socPct remaining_ah remainingAh rated_ah ratedAh cycles cycles cells_mv cellsMv cell_min_mv cellMinMv cell_min_number cellMinNumber cell_max_mv cellMaxMv cell_max_number cellMaxNumber cell_delta_mv cellDeltaMv temps_c tempsC charge_mos chargeMos discharge_mos dischargeMos state state charger charger load load balancing balancing alarms alarms fault_code faultCode protocol protocol address address soh_pct sohPct energy_wh energyWh temp_min_c minTempC temp_max_c maxTempC mos_temp_c mosTempC board_temp_c boardTempC precharge_mos prechargeMos heater_mos heaterMos fan_mos fanMos balance_current_a balanceCurrentA balancer_active balancerActive balancer_on balancerOn firmware_version firmwareVersion hardware_version hardwareVersion "

/** Appends `"k":v,` to a JSON text in pieces, in a new piece once the last is over 200 characters. */
function addMember(text: string[], k: string, v: any) {
    const n = text.length - 1
    const m = `"${k}":${JSON.stringify(v)},`
    if (text[n].length > 200) text.push(m)
    else text[n] += m
}

/** The `bms` measurements as a map, or with `text`, appended to it as JSON members (bmsJsonText). */
export function measurements(s: BmsSnapshot, nowMs: number, text?: string[]) {
    const m: Record<string, any> = {}
    const sa = s as any
    // pair by pair: split whole, the table was a 132-entry array (1.3 KB of heap) per status
    for (let at = 0; at < FIELDS.length; ) {
        const gap = FIELDS.indexOf(" ", at)
        const end = FIELDS.indexOf(" ", gap + 1) // the table ends with a space
        let v = s ? sa[FIELDS.slice(gap + 1, end)] : null
        if (v === undefined) v = null // what the unit does not report is absent from the snapshot
        if (text) addMember(text, FIELDS.slice(at, gap), v)
        else m[FIELDS.slice(at, gap)] = v
        at = end + 1
    }
    const age = s ? Math.round((nowMs - s.readAtMs) / 100) / 10 : null
    if (text) addMember(text, "age_s", age)
    else m["age_s"] = age
    return m
}

/**
 * The `bms` object (as bmsJson) as JSON text in pieces of about 200 characters, made field by field:
 * the MQTT state message. Made as a map and stringified whole, it needed a 660 B block for the map
 * and a 1.1 KB one for the text, and a fragmented heap had neither (OutOfMemory in bench:heap).
 */
export function bmsJsonText(link: string, paused: boolean, s: BmsSnapshot, nowMs: number) {
    const text = ["{"]
    measurements(s, nowMs, text)
    addMember(text, "link", link)
    text.push(`"polling":"${paused ? "paused_for_pcmaster" : "active"}"}`)
    return text
}

/**
 * `current` is the snapshot to present as current (null while the link is down or paused); `last`
 * the last good one, given apart with its age when it is not current.
 */
/** The `bms` object of /api/status and the MQTT state message as a map (/metrics). */
export function bmsJson(link: string, paused: boolean, current: BmsSnapshot, nowMs: number) {
    const bms: Record<string, any> = measurements(current, nowMs)
    bms["link"] = link
    bms["polling"] = paused ? "paused_for_pcmaster" : "active"
    return bms
}

/** `bms` is written as text in pieces (bmsJsonText; writeJson calls a function value): as a map it needed a 660 B block. */
export function statusJson(device: DeviceInfo, link: string, paused: boolean, current: BmsSnapshot, last: BmsSnapshot, nowMs: number) {
    const bms = async (w: BodyWriter) => {
        for (const p of bmsJsonText(link, paused, current, nowMs)) await w.write(p)
    }
    const r: Record<string, any> = { device, bms }
    if (!current && last) r["last_good"] = measurements(last, nowMs)
    return r
}
