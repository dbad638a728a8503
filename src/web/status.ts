// GET /api/status (docs/api.md): the device and the battery, with the field names every uplink uses.
// Measurements are null unless the snapshot is current; the last good one is given apart. Pure.
import { BmsSnapshot } from "../bms/snapshot"
import { splitText } from "../platform/text"

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

/** The `bms` keys and the snapshot fields they come from, in this order (a table: code is scarce). */
const MEASUREMENTS =
    "voltage_v:voltageV,current_a:currentA,power_w:powerW,soc_pct:socPct,remaining_ah:remainingAh,rated_ah:ratedAh," +
    "cycles:cycles,cells_mv:cellsMv,cell_min_mv:cellMinMv,cell_min_number:cellMinNumber,cell_max_mv:cellMaxMv," +
    "cell_max_number:cellMaxNumber,cell_delta_mv:cellDeltaMv,temps_c:tempsC,charge_mos:chargeMos,discharge_mos:dischargeMos," +
    "state:state,charger:charger,load:load,balancing:balancing,alarms:alarms,fault_code:faultCode"

export function measurements(s: BmsSnapshot, nowMs: number) {
    const r: Record<string, any> = {}
    const snap = s as any
    for (const pair of splitText(MEASUREMENTS, ",")) {
        const colon = pair.indexOf(":")
        const v = s ? snap[pair.slice(colon + 1)] : null
        r[pair.slice(0, colon)] = v === undefined ? null : v
    }
    r["age_s"] = s ? Math.round((nowMs - s.readAtMs) / 100) / 10 : null
    return r
}

/**
 * `current` is the snapshot to present as current (null while the link is down or paused); `last`
 * the last good one, given apart with its age when it is not current.
 */
/** The `bms` object of /api/status (and of the MQTT state message). */
export function bmsJson(link: string, paused: boolean, current: BmsSnapshot, nowMs: number) {
    const bms: Record<string, any> = measurements(current, nowMs)
    bms["link"] = link
    bms["polling"] = paused ? "paused_for_pcmaster" : "active"
    return bms
}

export function statusJson(device: DeviceInfo, link: string, paused: boolean, current: BmsSnapshot, last: BmsSnapshot, nowMs: number) {
    const r: Record<string, any> = { device, bms: bmsJson(link, paused, current, nowMs) }
    if (!current && last) r["last_good"] = measurements(last, nowMs)
    return r
}
