// The register maps of Daly's newer units (shared daly-modbus-protocol.md sections 3 and 4), decoded
// into the same readings as the 0xA5 frames, so one snapshot model serves both protocols. Pure.
// The maps are tables in strings (strings cost no bytecode; see docs/bms.md for the map in words).
import { BmsInfo, BmsReadings, decodeFields } from "./decode"

export const PROTO_A5 = 1
export const PROTO_D2 = 2
export const PROTO_P81 = 3
export const PROTOCOL_NAMES = ["", "a5", "d2", "81"]

/**
 * Per scheme (D2, p81): live reads ([start, count] each), temperature base, balancing bitmask [register, bytes], fault words
 * [register, bytes], cell slots; slow reads [start, count, kind] (2 balancer switch, 3 rated
 * capacity, more: versions, the hardware version starting at that byte); write registers: charge MOS, discharge MOS, SOC, live SOC read back, restart.
 */
const SCHEMES = `[
 {"live":[[0,80]],"temps":32,"bits":[62,4],"faults":[58,7],"cells":32,
  "slow":[[169,16,16],[207,1,2],[128,1,3]],"chg":165,"dsg":166,"balancer":207,"soc":167,"liveSoc":42,"restart":240},
 {"live":[[0,64],[64,52]],"temps":48,"bits":[79,6],"faults":[109,14],"cells":48,
  "slow":[[376,21,28],[207,1,2]],"chg":289,"dsg":290,"balancer":207,"soc":278,"liveSoc":58,"restart":0}
]`

/**
 * Readings per scheme, for decodeFields: [field, byte offset (2 x register), 2, add, multiply, type].
 * Balance current: (raw − 30000) mA, in A; raw 0 means "not measured". Temperatures: raw − 40 °C;
 * MOS and board temperature 0, 0xFF or 0xFFFF: absent.
 */
const FIELDS = `[[
 ["voltageDv",80,2,0,1,0],["rawCurrent",82,2,0,1,0],["socPermille",84,2,0,1,0],["maxCellMv",86,2,0,1,0],
 ["minCellMv",88,2,0,1,0],["maxTempC",90,2,-40,1,0],["minTempC",92,2,-40,1,0],["state",94,2,0,1,0],
 ["remainingMah",96,2,0,100,0],["cellCount",98,2,0,1,0],["sensorCount",100,2,0,1,0],["cycles",102,2,0,1,0],
 ["balancerActive",104,2,0,1,1],["chargeMos",106,2,0,1,1],["dischargeMos",108,2,0,1,1],["powerW",114,2,0,1,0],
 ["balanceCurrentA",128,2,-30000,0.001,3],["mosTempC",132,2,-40,1,3],["boardTempC",134,2,-40,1,3]
],[
 ["voltageDv",112,2,0,1,0],["rawCurrent",114,2,0,1,0],["socPermille",116,2,0,1,0],["maxCellMv",124,2,0,1,0],
 ["minCellMv",128,2,0,1,0],["maxTempC",134,2,-40,1,0],["minTempC",138,2,-40,1,0],["state",144,2,0,1,0],
 ["maxTempSensor",136,2,0,1,0],["minTempSensor",140,2,0,1,0],
 ["remainingMah",150,2,0,100,0],["cellCount",120,2,0,1,0],["sensorCount",122,2,0,1,0],["cycles",152,2,0,1,0],
 ["balancerActive",154,2,0,1,1],["chargeMos",164,2,0,1,1],["dischargeMos",166,2,0,1,1],["powerW",176,2,0,1,0],
 ["charger",146,2,0,1,1],["load",148,2,0,1,1],["balanceCurrentA",156,2,-30000,0.001,3],["mosTempC",180,2,-40,1,3],
 ["boardTempC",182,2,-40,1,3],["prechargeMos",168,2,0,1,1],["heaterMos",170,2,0,1,1],["fanMos",172,2,0,1,1],
 ["energyWh",178,2,0,1,0]
]]`

/**
 * The p81 fault words 0x6D-0x73 as 14 bytes, low byte of 0x6D first (section 4.3): [bit, width,
 * 0x98 alarm bit (L1; a level of 2 and more sets L2 too; 99: none), name]. Width 3: a level field,
 * named NAME_lLEVEL.
 */
const P81_FAULTS = `[
 [0,3,0,"cell_ovp"],[3,3,2,"cell_uvp"],[7,1,99,"smart_charger_connection_error"],[8,3,24,"cell_volt_diff"],
 [11,3,8,"charge_overtemp"],[15,1,99,"smart_discharger_connection_error"],[16,3,10,"charge_undertemp"],
 [19,3,12,"discharge_overtemp"],[22,1,32,"charge_mos_temp_high"],[23,1,34,"charge_mos_temp_sensor_error"],
 [24,3,14,"discharge_undertemp"],[27,3,26,"temp_diff"],[30,1,33,"discharge_mos_temp_high"],
 [31,1,35,"discharge_mos_temp_sensor_error"],[32,3,4,"total_ovp"],[35,3,6,"total_uvp"],[38,1,50,"short_circuit"],
 [40,3,16,"charge_ocp"],[43,3,18,"discharge_ocp"],[46,1,99,"charge_undervoltage_error"],
 [47,1,99,"discharge_overvoltage_error"],[48,3,22,"soc_low"],[51,3,99,"soh_low"],[55,1,46,"parallel_comm_error"],
 [56,3,99,"mos_overtemp"],[59,3,99,"thermal_runaway"],[88,1,40,"afe_chip_error"],[89,1,47,"afe_comm_error"],
 [90,1,99,"afe_sampling_error"],[91,1,41,"volt_detect_error"],[92,1,41,"volt_detect_disconnected"],
 [93,1,49,"total_volt_detect_error"],[94,1,48,"current_detect_error"],[95,1,42,"temp_detect_error"],
 [96,1,42,"temp_sensor_disconnected"],[97,1,43,"eeprom_error"],[98,1,99,"flash_error"],[99,1,44,"rtc_error"],
 [100,1,99,"charge_mos_error"],[101,1,99,"discharge_mos_error"],[102,1,99,"precharge_mos_error"],
 [103,1,45,"precharge_error"],[111,1,99,"heating_error"]
]`

export const BALANCER = 0xcf

/**
 * The table of a scheme (PROTO_D2 or PROTO_P81). The tables are parsed where they are used and not
 * kept: parsed tables would hold several KB of the 64 KB heap for good.
 */
export function scheme(protocol: number) {
    return JSON.parse(SCHEMES)[protocol === PROTO_D2 ? 0 : 1]
}

const reg = (d: Buffer, i: number) => (d[2 * i] << 8) | d[2 * i + 1]

/** `n` bytes from register `first` on, low byte of each register first (bitmasks, fault words). */
function lowFirst(d: Buffer, first: number, n: number) {
    const b = Buffer.alloc(n < 6 ? 6 : n) // a balancing bitmask is 6 bytes (48 cells) in the snapshot
    if (2 * first + n <= d.length) for (let i = 0; i < n; i++) b[i] = d[2 * (first + (i >> 1)) + 1 - (i & 1)]
    return b
}

/**
 * Decodes the live registers (`d`: their data from register 0) of a scheme into `r`; false when
 * absurd. Registers beyond what was read stay undefined (null in the snapshot).
 */
export function decodeLive(protocol: number, d: Buffer, r: BmsReadings): boolean {
    const s = scheme(protocol)
    decodeFields(d, 0, JSON.parse(FIELDS)[protocol === PROTO_D2 ? 0 : 1], r)
    const n = r.cellCount
    const m = r.sensorCount
    if (!(n >= 1 && n <= s.cells && m <= 8 && r.rawCurrent && r.socPermille <= 1000 && r.state <= 2)) return false
    const cells: number[] = []
    const temps: number[] = []
    for (let i = 0; i < n; i++) cells.push(reg(d, i))
    for (let i = 0; i < m; i++) temps.push(reg(d, s.temps + i) - 40)
    r.cellsMv = cells
    r.tempsC = temps
    r.balancing = lowFirst(d, s.bits[0], s.bits[1])
    const faults = lowFirst(d, s.faults[0], s.faults[1])
    r.faultCode = 0
    r.alarms = faults // D2: the 0x98 alarm bytes, low byte first (section 3.2)
    if (protocol === PROTO_D2) return true
    const a = Buffer.alloc(7)
    const names: string[] = []
    for (const e of JSON.parse(P81_FAULTS)) {
        const v = (faults[e[0] >> 3] >> (e[0] & 7)) & (e[1] === 3 ? 7 : 1)
        if (!v) continue
        names.push(e[1] === 3 ? e[3] + "_l" + v : e[3])
        for (let b = e[2]; b < e[2] + (v > 1 ? 2 : 1); b++) if (b < 99) a[b >> 3] |= 1 << (b & 7)
    }
    r.alarms = a
    r.alarmNames = names
    return true
}

/** ASCII up to the first NUL or 0xFF (version strings are NUL-padded, then 0xFF). */
function ascii(b: Buffer) {
    let n = 0
    while (b[n] && b[n] !== 0xff) n++ // past the end: undefined
    return b.slice(0, n).toString()
}

/**
 * A slow read of `kind` into `info`: 2 balancer switch, 3 rated capacity; more: the software and
 * hardware version strings, the second starting at byte `kind` (D2 16 + 16 bytes; p81 28 + 14).
 */
export function decodeSlow(kind: number, d: Buffer, info: BmsInfo) {
    if (kind > 3) {
        info.firmwareVersion = ascii(d.slice(0, kind))
        info.hardwareVersion = ascii(d.slice(kind))
    }
    if (kind === 2) info.balancerOn = reg(d, 0) !== 0
    if (kind === 3) info.ratedMah = reg(d, 0) * 100
}
