// The Modbus register map (docs/modbus.md): Daly's newer register layout (as the
// patagonaa/esphome-daly-hkms-bms project documents it), filled from the BMS snapshot. Pure.
import { BmsSnapshot } from "../bms/snapshot"

export const FIRST_BLOCK_END = 0x5c // registers 0x00..0x5C are one contiguous block
export const ALARMS = 0x66 // 0x66..0x69: the UART alarm bytes B0..B7
export const ALARMS_END = 0x69
export const CHARGE_MOS_CONTROL = 0x121
export const DISCHARGE_MOS_CONTROL = 0x122
export const MAX_CELLS = 48
export const MAX_TEMPS = 8

export const REG_PACK_VOLTAGE = 0x38
export const REG_CURRENT = 0x39
export const REG_SOC = 0x3a
export const REG_CELL_COUNT = 0x3c
export const REG_TEMP_COUNT = 0x3d
export const REG_REMAINING = 0x4b
export const REG_CYCLES = 0x4c

/** Whether a register exists in the map. */
export function isMapped(addr: number) {
    return (addr >= 0 && addr <= FIRST_BLOCK_END) || (addr >= ALARMS && addr <= ALARMS_END) || addr === CHARGE_MOS_CONTROL || addr === DISCHARGE_MOS_CONTROL
}

/** Whether a register may be written (function codes 6 and 16, when Modbus writes are enabled). */
export function isWritable(addr: number) {
    return addr === CHARGE_MOS_CONTROL || addr === DISCHARGE_MOS_CONTROL
}

const u16 = (v: number) => Math.max(0, Math.min(0xffff, Math.round(v)))
const i16 = (v: number) => {
    const n = Math.max(-32768, Math.min(32767, Math.round(v)))
    return n < 0 ? n + 0x10000 : n
}

function indexOfExtreme(values: number[], max: boolean) {
    let best = 0
    for (let i = 1; i < values.length; i++) if (max ? values[i] > values[best] : values[i] < values[best]) best = i
    return best
}

/** The value of a mapped register for a snapshot (0 for what the BMS does not report). */
export function registerValue(addr: number, s: BmsSnapshot): number {
    if (addr < MAX_CELLS) return addr < s.cellsMv.length ? s.cellsMv[addr] : 0
    if (addr < 0x30 + MAX_TEMPS) {
        const i = addr - 0x30
        return i < s.tempsC.length ? u16(s.tempsC[i] + 40) : 0
    }
    const temps = s.tempsC
    const tMax = indexOfExtreme(temps, true)
    const tMin = indexOfExtreme(temps, false)
    switch (addr) {
        case REG_PACK_VOLTAGE: return u16(s.voltageV * 10)
        case REG_CURRENT: return u16(30000 + s.currentA * 10)
        case REG_SOC: return u16(s.socPct * 10)
        case 0x3b: return 0 // SOH: not in the UART protocol
        case REG_CELL_COUNT: return s.cellsMv.length
        case REG_TEMP_COUNT: return temps.length
        case 0x3e: return s.cellMaxMv
        case 0x3f: return s.cellMaxNumber
        case 0x40: return s.cellMinMv
        case 0x41: return s.cellMinNumber
        case 0x42: return s.cellDeltaMv
        case 0x43: return temps.length ? u16(temps[tMax] + 40) : 0
        case 0x44: return temps.length ? tMax + 1 : 0
        case 0x45: return temps.length ? u16(temps[tMin] + 40) : 0
        case 0x46: return temps.length ? tMin + 1 : 0
        case 0x47: return temps.length ? temps[tMax] - temps[tMin] : 0
        case 0x48: return s.state === "charging" ? 1 : s.state === "discharging" ? 2 : 0
        case 0x49: return s.charger ? 1 : 0 // this dongle: charger present
        case 0x4a: return s.load ? 1 : 0 // this dongle: load present
        case REG_REMAINING: return u16(s.remainingAh * 10)
        case REG_CYCLES: return s.cycles
        case 0x4d: return s.balancing.length ? 1 : 0
        case 0x4e: return 0 // balance current: not in the UART protocol
        case 0x4f: return (s.balancingBits[1] << 8) | s.balancingBits[0] // bit n: cell n+1
        case 0x50: return (s.balancingBits[3] << 8) | s.balancingBits[2]
        case 0x51: return (s.balancingBits[5] << 8) | s.balancingBits[4]
        case 0x52: return s.chargeMos ? 1 : 0
        case 0x53: return s.dischargeMos ? 1 : 0
        case 0x57: return s.digitalInputs | (s.digitalOutputs << 4) // this dongle: DI1-4, DO1-4
        case 0x58: return i16(s.powerW) // W, signed (two's complement), positive charging
        case ALARMS: return (s.alarmBits[0] << 8) | s.alarmBits[1]
        case ALARMS + 1: return (s.alarmBits[2] << 8) | s.alarmBits[3]
        case ALARMS + 2: return (s.alarmBits[4] << 8) | s.alarmBits[5]
        case ALARMS + 3: return (s.alarmBits[6] << 8) | s.faultCode
        case CHARGE_MOS_CONTROL: return s.chargeMos ? 1 : 0
        case DISCHARGE_MOS_CONTROL: return s.dischargeMos ? 1 : 0
    }
    return 0 // mapped but not reported by a Daly UART BMS (precharge, heating, fan, energy, extra temperatures)
}
