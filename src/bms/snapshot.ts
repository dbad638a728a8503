// The BMS snapshot: everything one complete poll cycle read, in physical units. Built by a pure
// function from the cycle's readings; the only source of truth is store.ts.
import { alarmNames } from "./alarms"
import { BmsInfo, BmsReadings } from "./decode"

/** Below this current the 0x93 state (idle/charging/discharging) is not used to check the sign. */
export const SIGN_CHECK_MIN_A = 0.5
export const STATE_NAMES = ["idle", "charging", "discharging"]

export interface BmsSnapshot {
    voltageV: number
    currentA: number
    powerW: number
    socPct: number
    remainingAh: number
    ratedAh: number
    cycles: number
    cellsMv: number[]
    cellMinMv: number
    cellMinNumber: number
    cellMaxMv: number
    cellMaxNumber: number
    cellDeltaMv: number
    tempsC: number[]
    chargeMos: boolean
    dischargeMos: boolean
    state: string
    charger: boolean
    load: boolean
    digitalInputs: number
    digitalOutputs: number
    /** cell numbers (from 1) being balanced */
    balancing: number[]
    balancingBits: Buffer
    alarms: string[]
    alarmBits: Buffer
    faultCode: number
    /** the sign of the raw current disagreed with the 0x93 state and was corrected */
    signCorrected: boolean
    /** ds.millis() when the cycle that produced this snapshot ended */
    readAtMs: number
    /** how long that cycle took */
    cycleMs: number
}

/** Which fields a complete fast cycle must have read. */
export function readingsComplete(r: BmsReadings) {
    if (r.voltageDv === undefined || r.state === undefined || r.cellCount === undefined) return false
    if (!r.alarms || !r.balancing || r.maxTempC === undefined || r.maxCellMv === undefined) return false
    if (!r.cellsMv || r.cellsMv.length < r.cellCount) return false
    for (let i = 0; i < r.cellCount; i++) if (r.cellsMv[i] === undefined) return false
    if (!r.tempsC || r.tempsC.length < r.sensorCount) return false
    for (let i = 0; i < r.sensorCount; i++) if (r.tempsC[i] === undefined) return false
    return true
}

/**
 * Current in amps, positive while charging. `invert` is the user's setting for firmwares with the
 * other convention; then the 0x93 state, when it says charging or discharging at a real current,
 * decides the sign.
 */
export function packCurrent(rawCurrent: number, state: number, invert: boolean) {
    let a = (rawCurrent - 30000) / 10
    if (invert) a = -a
    let corrected = false
    if (Math.abs(a) >= SIGN_CHECK_MIN_A && ((state === 1 && a < 0) || (state === 2 && a > 0))) {
        a = -a
        corrected = true
    }
    return { amps: a, corrected }
}

export function buildSnapshot(r: BmsReadings, info: BmsInfo, invertCurrent: boolean, readAtMs: number, cycleMs: number): BmsSnapshot {
    const cells = r.cellsMv.slice(0, r.cellCount)
    let min = 0
    let max = 0
    for (let i = 1; i < cells.length; i++) {
        if (cells[i] < cells[min]) min = i
        if (cells[i] > cells[max]) max = i
    }
    const current = packCurrent(r.rawCurrent, r.state, invertCurrent)
    const voltageV = r.voltageDv / 10
    const balancing: number[] = []
    for (let i = 0; i < r.cellCount; i++) if (r.balancing[i >> 3] & (1 << (i & 7))) balancing.push(i + 1)
    return {
        voltageV,
        currentA: current.amps,
        powerW: Math.round(voltageV * current.amps * 10) / 10,
        socPct: r.socPermille / 10,
        remainingAh: r.remainingMah / 1000,
        ratedAh: info.ratedMah !== undefined ? info.ratedMah / 1000 : null,
        cycles: r.cycles,
        cellsMv: cells,
        cellMinMv: cells[min],
        cellMinNumber: min + 1,
        cellMaxMv: cells[max],
        cellMaxNumber: max + 1,
        cellDeltaMv: cells[max] - cells[min],
        tempsC: r.tempsC.slice(0, r.sensorCount),
        chargeMos: r.chargeMos,
        dischargeMos: r.dischargeMos,
        state: STATE_NAMES[r.state],
        charger: r.charger,
        load: r.load,
        digitalInputs: r.digitalIO & 0x0f,
        digitalOutputs: r.digitalIO >> 4,
        balancing,
        balancingBits: r.balancing,
        alarms: alarmNames(r.alarms),
        alarmBits: r.alarms,
        faultCode: r.faultCode,
        signCorrected: current.corrected,
        readAtMs,
        cycleMs,
    }
}
