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
}

/** Slow-changing data, read once and refreshed rarely. */
export interface BmsInfo {
    ratedMah?: number
    nominalCellMv?: number
    productionDate?: string
    batteryCode?: string
    batteryCodeParts?: string[]
    cellHighL1Mv?: number
    cellHighL2Mv?: number
    cellLowL1Mv?: number
    cellLowL2Mv?: number
    packHighL1Dv?: number
    packHighL2Dv?: number
    packLowL1Dv?: number
    packLowL2Dv?: number
    clock?: string
    clockSocPermille?: number
}

const u16 = (f: Buffer, i: number) => (f[4 + i] << 8) | f[5 + i]
const u32 = (f: Buffer, i: number) => ((f[4 + i] << 24) | (f[5 + i] << 16) | (f[6 + i] << 8) | f[7 + i]) >>> 0
const two = (n: number) => (n < 10 ? "0" + n : "" + n)

/** Expected frame count of a reply, given what is known of the pack. */
export function framesFor(dataId: number, cellCount: number, sensorCount: number) {
    if (dataId === 0x95) return Math.ceil(cellCount / CELLS_PER_FRAME)
    if (dataId === 0x96) return Math.ceil(sensorCount / TEMPS_PER_FRAME)
    if (dataId === 0x57) return BATTERY_CODE_FRAMES
    return 1
}

/** Decodes one reply frame of the fast cycle into `r`; false when the frame is absurd. */
export function decodeReading(f: Buffer, r: BmsReadings): boolean {
    switch (f[2]) {
        case 0x90: {
            const raw = u16(f, 4)
            const soc = u16(f, 6)
            if (raw === 0 || soc > 1000) return false // raw 0 would be -3000 A
            r.voltageDv = u16(f, 0)
            r.rawCurrent = raw
            r.socPermille = soc
            return true
        }
        case 0x91:
            if (f[6] < 1 || f[9] < 1) return false
            r.maxCellMv = u16(f, 0)
            r.maxCell = f[6]
            r.minCellMv = u16(f, 3)
            r.minCell = f[9]
            return true
        case 0x92:
            r.maxTempC = f[4] - 40
            r.minTempC = f[6] - 40
            return true
        case 0x93:
            if (f[4] > 2) return false
            r.state = f[4]
            r.chargeMos = f[5] !== 0
            r.dischargeMos = f[6] !== 0
            r.life = f[7]
            r.remainingMah = u32(f, 4)
            return true
        case 0x94:
            if (f[4] < 1 || f[4] > MAX_CELLS || f[5] > MAX_SENSORS) return false
            r.cellCount = f[4]
            r.sensorCount = f[5]
            r.charger = f[6] !== 0
            r.load = f[7] !== 0
            r.digitalIO = f[8]
            r.cycles = u16(f, 5) // B7 is a leftover of earlier replies
            return true
        case 0x95: {
            const n = f[4]
            if (!r.cellCount || n < 1 || n > 16) return false
            if (!r.cellsMv) r.cellsMv = []
            for (let i = 0; i < CELLS_PER_FRAME; i++) {
                const cell = (n - 1) * CELLS_PER_FRAME + i
                if (cell < r.cellCount) r.cellsMv[cell] = u16(f, 1 + 2 * i) // cells beyond the count dropped
            }
            return true
        }
        case 0x96: {
            const n = f[4]
            if (r.sensorCount === undefined || n < 1 || n > 3) return false
            if (!r.tempsC) r.tempsC = []
            for (let i = 0; i < TEMPS_PER_FRAME; i++) {
                const sensor = (n - 1) * TEMPS_PER_FRAME + i
                if (sensor < r.sensorCount) r.tempsC[sensor] = f[5 + i] - 40
            }
            return true
        }
        case 0x97:
            r.balancing = f.slice(4, 10)
            return true
        case 0x98:
            r.alarms = f.slice(4, 11)
            r.faultCode = f[11]
            return true
    }
    return false
}

/** Decodes one reply frame of the slow data into `info`; false when it is absurd. */
export function decodeInfo(f: Buffer, info: BmsInfo): boolean {
    switch (f[2]) {
        case 0x50:
            info.ratedMah = u32(f, 0)
            info.nominalCellMv = u16(f, 6)
            return info.ratedMah > 0
        case 0x53:
            if (f[7] < 1 || f[7] > 12 || f[8] < 1 || f[8] > 31) return false
            info.productionDate = `20${two(f[6])}-${two(f[7])}-${two(f[8])}`
            return true
        case 0x57: {
            const n = f[4]
            if (n < 1 || n > BATTERY_CODE_FRAMES) return false
            if (!info.batteryCodeParts) info.batteryCodeParts = []
            let part = ""
            for (let i = 0; i < 7; i++) {
                const c = f[5 + i]
                part += c >= 32 && c < 127 ? String.fromCharCode(c) : " "
            }
            info.batteryCodeParts[n - 1] = part
            let whole = ""
            for (let i = 0; i < BATTERY_CODE_FRAMES; i++) whole += info.batteryCodeParts[i] || ""
            info.batteryCode = whole.trim()
            return true
        }
        case 0x59:
            info.cellHighL1Mv = u16(f, 0)
            info.cellHighL2Mv = u16(f, 2)
            info.cellLowL1Mv = u16(f, 4)
            info.cellLowL2Mv = u16(f, 6)
            return true
        case 0x5a:
            info.packHighL1Dv = u16(f, 0)
            info.packHighL2Dv = u16(f, 2)
            info.packLowL1Dv = u16(f, 4)
            info.packLowL2Dv = u16(f, 6)
            return true
        case 0x61:
            if (f[5] < 1 || f[5] > 12 || f[6] < 1 || f[6] > 31 || f[7] > 23 || f[8] > 59 || f[9] > 59) return false
            info.clock = `20${two(f[4])}-${two(f[5])}-${two(f[6])}T${two(f[7])}:${two(f[8])}:${two(f[9])}`
            info.clockSocPermille = u16(f, 6)
            return true
    }
    return false
}
