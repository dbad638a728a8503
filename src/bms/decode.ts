// Decoders of Daly replies into one cycle's readings. Pure: each takes a validated frame (see
// FrameReader) and returns false when the frame is absurd, so the caller rejects the frame and asks
// again, instead of trusting it. Reserved and unused bytes are never read.
export const MAX_CELLS = 48
export const MAX_SENSORS = 16
export const CELLS_PER_FRAME = 3
export const TEMPS_PER_FRAME = 7
export const BATTERY_CODE_FRAMES = 5

/** What one poll cycle has read so far. Fields stay undefined until their frame arrived. */
export interface BmsReadings {
    voltageDv?: number
    rawCurrent?: number
    socPermille?: number
    maxCellMv?: number
    maxCell?: number
    minCellMv?: number
    minCell?: number
    maxTempC?: number
    minTempC?: number
    maxTempSensor?: number
    minTempSensor?: number
    state?: number
    chargeMos?: boolean
    dischargeMos?: boolean
    life?: number
    remainingMah?: number
    cellCount?: number
    sensorCount?: number
    charger?: boolean
    load?: boolean
    digitalIO?: number
    cycles?: number
    cellsMv?: number[]
    tempsC?: number[]
    balancing?: Buffer
    alarms?: Buffer
    faultCode?: number
    // what only the newer (Modbus-style) units report; undefined: not present
    balancerActive?: boolean
    balanceCurrentA?: number
    mosTempC?: number
    boardTempC?: number
    prechargeMos?: boolean
    heaterMos?: boolean
    fanMos?: boolean
    /** unsigned, as the unit reports it */
    powerW?: number
    energyWh?: number
    /** the p81 faults by name (0x6D-0x73); the others name `alarms` */
    alarmNames?: string[]
}

/**
 * Slow-changing data, read once and refreshed rarely: what a consumer shows (rated capacity, battery
 * code, versions, balancer switch). The thresholds, production date and BMS clock of 0x53, 0x59,
 * 0x5A and 0x61 were read once but shown nowhere, and are no longer read (bytecode room).
 */
export interface BmsInfo {
    ratedMah?: number
    batteryCode?: string
    batteryCodeText?: string
    firmwareVersion?: string
    hardwareVersion?: string
    /** the balancer switch of a newer unit (register 0xCF) */
    balancerOn?: boolean
}

/** Expected frame count of a reply, given what is known of the pack. */
export function framesFor(dataId: number, cellCount: number, sensorCount: number) {
    if (dataId === 0x95) return Math.ceil(cellCount / CELLS_PER_FRAME)
    if (dataId === 0x96) return Math.ceil(sensorCount / TEMPS_PER_FRAME)
    if (dataId === 0x57) return BATTERY_CODE_FRAMES
    return 1
}

/**
 * The fields of the one-frame replies 0x90..0x94: [field, byte offset in the data, size, add,
 * multiply, type] (see decodeFields). Tables in strings cost no bytecode; parsed per frame, they
 * hold no heap for good.
 */
const A5_FIELDS = [
    `[["voltageDv",0,2,0,1,0],["rawCurrent",4,2,0,1,0],["socPermille",6,2,0,1,0]]`,
    `[["maxCellMv",0,2,0,1,0],["maxCell",2,1,0,1,0],["minCellMv",3,2,0,1,0],["minCell",5,1,0,1,0]]`,
    `[["maxTempC",0,1,-40,1,0],["maxTempSensor",1,1,0,1,0],["minTempC",2,1,-40,1,0],["minTempSensor",3,1,0,1,0]]`,
    `[["state",0,1,0,1,0],["chargeMos",1,1,0,1,1],["dischargeMos",2,1,0,1,1],["life",3,1,0,1,0],["remainingMah",4,4,0,1,0]]`,
    `[["cellCount",0,1,0,1,0],["sensorCount",1,1,0,1,0],["charger",2,1,0,1,1],["load",3,1,0,1,1],["digitalIO",4,1,0,1,0],["cycles",5,2,0,1,0]]`,
]

/**
 * Big-endian fields of `b` from byte `base` on into `r`: [field, offset, size, add, multiply,
 * type]; value (raw + add) x multiply; type 1: raw not 0, 3: null when raw is 0, 0xFF
 * or 0xFFFF (absent). Fields beyond `b` are left alone. Shared by the 0xA5 frames and the registers.
 */
export function decodeFields(b: Buffer, base: number, table: any[], r: BmsReadings) {
    const rr = r as any
    for (const f of table) {
        const at = base + f[1]
        if (at + f[2] > b.length) continue
        let raw = 0
        for (let i = 0; i < f[2]; i++) raw = raw * 256 + b[at + i]
        const t = f[5]
        rr[f[0]] = t === 1 ? raw !== 0 : t === 3 && (!raw || raw === 0xff || raw === 0xffff) ? null : (raw + f[3]) * f[4]
    }
}

/**
 * Decodes one reply frame of the fast cycle into `r`; false when the frame is absurd (raw current
 * 0, i.e. −3000 A; SOC over 100 %; cell numbers 0; state over 2; counts out of range; frame numbers
 * out of range): the caller then asks again, and a cycle with an absurd frame publishes nothing.
 */
export function decodeReading(f: Buffer, r: BmsReadings): boolean {
    const id = f[2]
    if (id >= 0x90 && id <= 0x94) decodeFields(f, 4, JSON.parse(A5_FIELDS[id - 0x90]), r)
    switch (id) {
        case 0x90: return r.rawCurrent !== 0 && r.socPermille <= 1000
        case 0x91: return r.maxCell >= 1 && r.minCell >= 1
        case 0x92: return true
        case 0x93: return r.state <= 2
        case 0x94: return r.cellCount >= 1 && r.cellCount <= MAX_CELLS && r.sensorCount <= MAX_SENSORS
        case 0x97:
            r.balancing = f.slice(4, 10)
            return true
        case 0x98:
            r.alarms = f.slice(4, 11)
            r.faultCode = f[11]
            return true
    }
    // 0x95 cells (three per frame), 0x96 temperatures (seven): by frame number, beyond the count dropped
    const cells = id === 0x95
    const n = f[4]
    const count = cells ? r.cellCount : r.sensorCount
    if (count === undefined || !(cells ? count : 1) || n < 1 || n > (cells ? 16 : 3) || !(cells || id === 0x96)) return false
    const per = cells ? CELLS_PER_FRAME : TEMPS_PER_FRAME
    const list = (cells ? r.cellsMv : r.tempsC) || []
    if (cells) r.cellsMv = list
    else r.tempsC = list
    for (let i = 0; i < per; i++) if ((n - 1) * per + i < count) list[(n - 1) * per + i] = cells ? (f[5 + 2 * i] << 8) | f[6 + 2 * i] : f[5 + i] - 40
    return true
}

/** Decodes one reply frame of the slow data into `info`; false when it is absurd. */
export function decodeInfo(f: Buffer, info: BmsInfo): boolean {
    switch (f[2]) {
        case 0x50:
            info.ratedMah = ((f[4] << 24) | (f[5] << 16) | (f[6] << 8) | f[7]) >>> 0
            return info.ratedMah > 0
        case 0x57:
            // five frames of 7 ASCII characters, taken in order 1..5 (FrameSequence)
            if (f[4] === 1) info.batteryCodeText = ""
            for (let i = 5; i < 12; i++) info.batteryCodeText += f[i] >= 32 && f[i] < 127 ? String.fromCharCode(f[i]) : " "
            // published whole only: set per frame, a reply in progress or cut showed a part of it
            if (f[4] === BATTERY_CODE_FRAMES) info.batteryCode = info.batteryCodeText.trim()
            return true
    }
    return false
}
