// A battery pack as a Daly BMS sees it: cells, temperature sensors, current, SOC integrated from the
// current, balancing, alarms, MOS switches, cycles, RTC. Pure state; the protocol lives in virtual-bms.mjs.

const OCV_CURVE = [
    // LiFePO4 open-circuit voltage per cell (SOC %, mV)
    [0, 2800], [5, 3050], [10, 3150], [20, 3220], [30, 3250], [40, 3270], [50, 3285],
    [60, 3300], [70, 3315], [80, 3330], [90, 3345], [95, 3380], [100, 3450],
]
const CELL_RESISTANCE_MOHM = 1.5
const BALANCE_START_MV = 3350 // balancing only above this cell voltage
const BALANCE_DELTA_MV = 10 // ... and this far above the lowest cell
const IDLE_CURRENT_A = 0.1 // |current| below this counts as idle

export const DEFAULT_THRESHOLDS = {
    cellHighL1Mv: 3600, cellHighL2Mv: 3650, cellLowL1Mv: 2900, cellLowL2Mv: 2700,
    packHighL1dV: 0, packHighL2dV: 0, packLowL1dV: 0, packLowL2dV: 0, // 0: derived from cells
    chargeTempHighL1C: 50, chargeTempHighL2C: 55, chargeTempLowL1C: 2, chargeTempLowL2C: 0,
    diffMvL1: 100, diffMvL2: 200,
}

function ocvMv(soc) {
    for (let i = 1; i < OCV_CURVE.length; i++) {
        const [s1, v1] = OCV_CURVE[i]
        if (soc <= s1) {
            const [s0, v0] = OCV_CURVE[i - 1]
            return v0 + ((v1 - v0) * (soc - s0)) / (s1 - s0)
        }
    }
    return OCV_CURVE[OCV_CURVE.length - 1][1]
}

export class BatteryModel {
    /**
     * @param {object} o
     * @param {number} [o.cells] 1..48
     * @param {number} [o.temperatureSensors] 1..16
     * @param {number} [o.capacityAh] rated capacity
     * @param {number} [o.soc] initial SOC in %
     * @param {number} [o.current] amps, positive = charging
     * @param {(seconds:number)=>number} [o.currentProfile] amps as a function of seconds since start
     * @param {number} [o.cycles]
     * @param {number} [o.ambientC]
     * @param {string} [o.batteryCode] up to 35 ASCII characters (0x57)
     * @param {number[]} [o.cellOffsetsMv] fixed per-cell deviation
     */
    constructor(o = {}) {
        this.cellCount = o.cells ?? 16
        if (!(this.cellCount >= 1 && this.cellCount <= 48)) throw new Error(`cell count ${this.cellCount} is out of range 1..48`)
        this.sensorCount = o.temperatureSensors ?? 2
        if (!(this.sensorCount >= 1 && this.sensorCount <= 16))
            throw new Error(`temperature sensor count ${this.sensorCount} is out of range 1..16`)
        this.capacityAh = o.capacityAh ?? 100
        this.remainingAh = (this.capacityAh * (o.soc ?? 60)) / 100
        this.current = o.current ?? 0
        this.currentProfile = o.currentProfile ?? null
        this.cycles = o.cycles ?? 12
        this.ambientC = o.ambientC ?? 22
        this.nominalCellMv = 3200
        this.batteryCode = (o.batteryCode ?? "VIRTUAL-DALY-0001").slice(0, 35)
        this.productionDate = { year: 2025, month: 6, day: 15 }
        this.thresholds = { ...DEFAULT_THRESHOLDS, ...(o.thresholds ?? {}) }
        this.cellOffsetsMv =
            o.cellOffsetsMv ?? Array.from({ length: this.cellCount }, (_, i) => ((i * 7919) % 13) - 6)
        this.chargeMos = true
        this.dischargeMos = true
        this.chargerPresent = false
        this.loadPresent = false
        this.digitalIO = 0
        this.life = 0
        this.faultCode = 0
        // what the newer (Modbus-style) units report besides (register-image.mjs)
        this.balancerOn = true
        this.prechargeMos = false
        this.heaterOn = false
        this.fanOn = false
        this.mosTempC = this.ambientC + 3
        this.boardTempC = this.ambientC + 5
        this.sleepS = 3600
        this.softwareVersion = o.softwareVersion ?? "VBMS-SW-1.2.0"
        this.hardwareVersion = o.hardwareVersion ?? "VBMS-HW-A1"
        this.forcedFaultWords = [0, 0, 0, 0, 0, 0, 0] // p81 fault words 0x6D-0x73 set by hand (tests)
        this.forcedBalancing = 0n // balancing bits set by hand (tests), OR-ed with computed ones
        this.forcedAlarms = Buffer.alloc(7) // alarm bits set by hand (tests), OR-ed with computed ones
        this.rtcOffsetMs = 0
        this.startMs = Date.now()
        this.lastStepMs = this.startMs
        this.idleSinceMs = this.startMs
        this.chargedAh = 0
    }

    /** Advance the model to `nowMs`: integrate current into SOC, count cycles, track idle time. */
    step(nowMs = Date.now()) {
        const dtH = Math.max(0, nowMs - this.lastStepMs) / 3_600_000
        this.lastStepMs = nowMs
        if (this.currentProfile) this.current = this.currentProfile((nowMs - this.startMs) / 1000)
        const amps = this.effectiveCurrent()
        const before = this.remainingAh
        this.remainingAh = Math.min(this.capacityAh, Math.max(0, this.remainingAh + amps * dtH))
        if (this.remainingAh > before) {
            this.chargedAh += this.remainingAh - before
            while (this.chargedAh >= this.capacityAh) {
                this.chargedAh -= this.capacityAh
                this.cycles++
            }
        }
        if (Math.abs(amps) >= IDLE_CURRENT_A) this.idleSinceMs = nowMs
        this.life = (this.life + 1) & 0xff
    }

    /** Current after the MOS switches: an open switch blocks its direction. */
    effectiveCurrent() {
        if (this.current > 0 && !this.chargeMos) return 0
        if (this.current < 0 && !this.dischargeMos) return 0
        return this.current
    }

    get soc() {
        return (100 * this.remainingAh) / this.capacityAh
    }

    set soc(pct) {
        this.remainingAh = (this.capacityAh * Math.min(100, Math.max(0, pct))) / 100
    }

    /** 0 idle, 1 charging, 2 discharging */
    get state() {
        const a = this.effectiveCurrent()
        return a >= IDLE_CURRENT_A ? 1 : a <= -IDLE_CURRENT_A ? 2 : 0
    }

    cellVoltagesMv() {
        const base = ocvMv(this.soc) + this.effectiveCurrent() * CELL_RESISTANCE_MOHM
        return this.cellOffsetsMv.slice(0, this.cellCount).map(o => Math.round(base + o))
    }

    temperaturesC() {
        const heat = Math.abs(this.effectiveCurrent()) / 20
        return Array.from({ length: this.sensorCount }, (_, i) => Math.round(this.ambientC + heat + (i % 3)))
    }

    packVoltageDv() {
        return Math.round(this.cellVoltagesMv().reduce((a, b) => a + b, 0) / 100)
    }

    /** Bit n set: cell n+1 is being balanced. */
    balancingBits() {
        const cells = this.cellVoltagesMv()
        const min = Math.min(...cells)
        let bits = this.forcedBalancing
        if (this.state === 1)
            cells.forEach((mv, i) => {
                if (mv >= BALANCE_START_MV && mv - min >= BALANCE_DELTA_MV) bits |= 1n << BigInt(i)
            })
        return bits
    }

    /** The 7 alarm bytes of 0x98 (B0..B6), computed from thresholds and OR-ed with forced bits. */
    alarmBytes() {
        const t = this.thresholds
        const cells = this.cellVoltagesMv()
        const max = Math.max(...cells)
        const min = Math.min(...cells)
        const temps = this.temperaturesC()
        const b = Buffer.from(this.forcedAlarms)
        if (max >= t.cellHighL1Mv) b[0] |= 0x01
        if (max >= t.cellHighL2Mv) b[0] |= 0x02
        if (min <= t.cellLowL1Mv) b[0] |= 0x04
        if (min <= t.cellLowL2Mv) b[0] |= 0x08
        if (this.state === 1) {
            if (Math.max(...temps) >= t.chargeTempHighL1C) b[1] |= 0x01
            if (Math.max(...temps) >= t.chargeTempHighL2C) b[1] |= 0x02
            if (Math.min(...temps) <= t.chargeTempLowL1C) b[1] |= 0x04
            if (Math.min(...temps) <= t.chargeTempLowL2C) b[1] |= 0x08
        }
        if (max - min >= t.diffMvL1) b[3] |= 0x01
        if (max - min >= t.diffMvL2) b[3] |= 0x02
        return b
    }

    /** Balancing current in A (newer units): 0.05 A while any cell balances. */
    balanceCurrentA() {
        return this.balancingBits() !== 0n ? 0.05 : 0
    }

    /** Stored energy in Wh (newer units). */
    energyWh() {
        return Math.round((this.remainingAh * this.packVoltageDv()) / 10)
    }

    /** The BMS clock as a Date. */
    clock(nowMs = Date.now()) {
        return new Date(nowMs + this.rtcOffsetMs)
    }

    setClock(date, nowMs = Date.now()) {
        this.rtcOffsetMs = date.getTime() - nowMs
    }

    idleSeconds(nowMs = Date.now()) {
        return (nowMs - this.idleSinceMs) / 1000
    }
}
