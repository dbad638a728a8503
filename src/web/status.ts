// GET /api/status (docs/api.md): the device and the battery, with the field names every uplink uses.
// Measurements are null unless the snapshot is current; the last good one is given apart. Pure.
import { BmsSnapshot } from "../bms/snapshot"

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

export function measurements(s: BmsSnapshot, nowMs: number) {
    return {
        voltage_v: s ? s.voltageV : null,
        current_a: s ? s.currentA : null,
        power_w: s ? s.powerW : null,
        soc_pct: s ? s.socPct : null,
        remaining_ah: s ? s.remainingAh : null,
        rated_ah: s ? s.ratedAh : null,
        cycles: s ? s.cycles : null,
        cells_mv: s ? s.cellsMv : null,
        cell_min_mv: s ? s.cellMinMv : null,
        cell_min_number: s ? s.cellMinNumber : null,
        cell_max_mv: s ? s.cellMaxMv : null,
        cell_max_number: s ? s.cellMaxNumber : null,
        cell_delta_mv: s ? s.cellDeltaMv : null,
        temps_c: s ? s.tempsC : null,
        charge_mos: s ? s.chargeMos : null,
        discharge_mos: s ? s.dischargeMos : null,
        state: s ? s.state : null,
        charger: s ? s.charger : null,
        load: s ? s.load : null,
        balancing: s ? s.balancing : null,
        alarms: s ? s.alarms : null,
        fault_code: s ? s.faultCode : null,
        age_s: s ? Math.round((nowMs - s.readAtMs) / 100) / 10 : null,
    }
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
