// The BMS snapshot: everything one complete poll cycle read, in physical units. Built by a pure
// function from the cycle's readings; the only source of truth is store.ts.
import { alarmNames } from "./alarms"
import { BmsInfo, BmsReadings } from "./decode"
import { PROTO_A5, PROTOCOL_NAMES } from "./registers"
import { splitText } from "../platform/text"

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
    /** bits 0-3 DI1..DI4, bits 4-7 DO1..DO4 (0xA5 0x94); null where not reported */
    digitalIO: number
    /** cell numbers (from 1) being balanced */
    balancing: number[]
    balancingBits: Buffer
    alarms: string[]
    alarmBits: Buffer
    faultCode: number
    /** "a5", "d2" or "81": the protocol the BMS answered; the request address it answers to */
    protocol: string
    address: number
    // absent (read as null) where the unit does not report it (EXTRA_READINGS, EXTRA_INFO)
    /** no known register carries it (p81 0x3B, "SOH" to one source, counts like a heartbeat) */
    sohPct: number
    energyWh: number
    minTempC: number
    maxTempC: number
    /** the sensor numbers (from 1) of the temperature extremes, as the BMS reports them */
    minTempSensor: number
    maxTempSensor: number
    mosTempC: number
    boardTempC: number
    prechargeMos: boolean
    heaterMos: boolean
    fanMos: boolean
    balanceCurrentA: number
    /** the balancer is working (state register) / its switch is on (0xCF) */
    balancerActive: boolean
    balancerOn: boolean
    firmwareVersion: string
    hardwareVersion: string
    /** ds.millis() when the cycle that produced this snapshot ended */
    readAtMs: number
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

/** Readings and info copied into the snapshot as they are, null where the unit did not report them. */
const EXTRA_READINGS = "sohPct,energyWh,mosTempC,boardTempC,prechargeMos,heaterMos,fanMos,balanceCurrentA,balancerActive"
const EXTRA_INFO = "balancerOn,firmwareVersion,hardwareVersion"

export function buildSnapshot(r: BmsReadings, info: BmsInfo, invertCurrent: boolean, readAtMs: number, protocol = PROTO_A5, address = 0): BmsSnapshot {
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
    // a newer unit reports power unsigned: it takes the sign of the current
    const power = r.powerW === undefined ? Math.round(voltageV * current.amps * 10) / 10 : current.amps < 0 ? -r.powerW : r.powerW
    const snap: any = {
        voltageV,
        currentA: current.amps,
        powerW: power,
        socPct: r.socPermille / 10,
        remainingAh: r.remainingMah / 1000,
        ratedAh: info.ratedMah !== undefined ? info.ratedMah / 1000 : null,
        cellsMv: cells,
        cellMinMv: cells[min],
        cellMinNumber: min + 1,
        cellMaxMv: cells[max],
        cellMaxNumber: max + 1,
        cellDeltaMv: cells[max] - cells[min],
        tempsC: r.tempsC.slice(0, r.sensorCount),
        state: STATE_NAMES[r.state],
        balancing,
        balancingBits: r.balancing,
        alarms: r.alarmNames || alarmNames(r.alarms),
        alarmBits: r.alarms,
        readAtMs,
        protocol: PROTOCOL_NAMES[protocol],
        address,
        // every unit reports these (D2: no charger/load, no sensor numbers; 0xA5: no extras below):
        // in the literal, so that a snapshot of an 0xA5 unit does not grow (heap)
        cycles: r.cycles,
        chargeMos: r.chargeMos,
        dischargeMos: r.dischargeMos,
        faultCode: r.faultCode,
        charger: r.charger,
        load: r.load,
        digitalIO: r.digitalIO,
        minTempC: r.minTempC,
        maxTempC: r.maxTempC,
        minTempSensor: r.minTempSensor,
        maxTempSensor: r.maxTempSensor,
    }
    const ra = r as any
    const ia = info as any
    // only what the unit reports: absent fields read as null (status.ts), and a snapshot of an 0xA5
    // unit stays as small as before (heap)
    for (const k of splitText(EXTRA_READINGS, ",")) if (ra[k] !== undefined && ra[k] !== null) snap[k] = ra[k]
    for (const k of splitText(EXTRA_INFO, ",")) if (ia[k] !== undefined) snap[k] = ia[k]
    return snap as BmsSnapshot
}
