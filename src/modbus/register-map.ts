// The Modbus register map (docs/modbus.md): Daly's newer register layout (as the
// patagonaa/esphome-daly-hkms-bms project documents it), filled from the BMS snapshot. Pure.
import { BmsSnapshot } from "../bms/snapshot"
import { splitText } from "../platform/text"

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


/**
 * The registers that are one snapshot field: ";REGISTER=field[,multiply[,add]]" (decimal; a table
 * in a string costs no bytecode). 0x3B SOH, 0x4E balance current, 0x54-0x56 precharge/heater/fan
 * MOS, 0x59 energy, 0x5A/0x5B MOS/board temperature: from the newer units, 0 where not reported.
 * 0x43-0x46: the temperature extremes and their sensors as the BMS reports them (0x92; D2: no sensors).
 * 0x49/0x4A: charger/load present; 0x57: this dongle's DI1-4, DO1-4.
 */
const SIMPLE = ";56=voltageV,10;57=currentA,10,30000;58=socPct,10;59=sohPct;62=cellMaxMv;63=cellMaxNumber;64=cellMinMv;65=cellMinNumber;66=cellDeltaMv;67=maxTempC,1,40;68=maxTempSensor;69=minTempC,1,40;70=minTempSensor;73=charger;74=load;75=remainingAh,10;76=cycles;78=balanceCurrentA,1000,30000;82=chargeMos;83=dischargeMos;84=prechargeMos;85=heaterMos;86=fanMos;87=digitalIO;89=energyWh;90=mosTempC,1,40;91=boardTempC,1,40;289=chargeMos;290=dischargeMos;"

/** The value of a mapped register for a snapshot (0 for what the BMS does not report). */
export function registerValue(addr: number, s: BmsSnapshot): number {
    if (addr < MAX_CELLS) return addr < s.cellsMv.length ? s.cellsMv[addr] : 0
    if (addr < 0x30 + MAX_TEMPS) {
        const i = addr - 0x30
        return i < s.tempsC.length ? u16(s.tempsC[i] + 40) : 0
    }
    const temps = s.tempsC
    const at = SIMPLE.indexOf(";" + addr + "=")
    if (at >= 0) {
        // [snapshot field, multiply, add]; null (not reported by this unit): 0; booleans 1 or 0
        const e = splitText(SIMPLE.slice(at + 2 + ("" + addr).length, SIMPLE.indexOf(";", at + 1)), ",")
        const v = (s as any)[e[0]]
        return v === null || v === undefined ? 0 : v === true ? 1 : v === false ? 0 : u16(v * (e[1] ? +e[1] : 1) + (e[2] ? +e[2] : 0))
    }
    if (addr >= 0x4f && addr <= 0x51) {
        // 0x4F-0x51: balancing bits, little-endian byte pairs (bit n: cell n+1)
        const k = 2 * (addr - 0x4f)
        return (s.balancingBits[k + 1] << 8) | s.balancingBits[k]
    }
    if (addr >= ALARMS && addr <= ALARMS_END) {
        // the alarm bytes B0..B6 in big-endian pairs, the fault code last
        const k = 2 * (addr - ALARMS)
        return (s.alarmBits[k] << 8) | (addr === ALARMS_END ? s.faultCode : s.alarmBits[k + 1])
    }
    switch (addr) {
        case REG_CELL_COUNT: return s.cellsMv.length
        case REG_TEMP_COUNT: return temps.length
        case 0x47: return u16(s.maxTempC - s.minTempC)
        case 0x48: return s.state === "charging" ? 1 : s.state === "discharging" ? 2 : 0
        case 0x4d: return s.balancing.length ? 1 : 0
        case 0x58: return i16(s.powerW) // W, signed (two's complement), positive charging
    }
    return 0 // mapped but not reported (heater temperature, extra temperatures, ...)
}
