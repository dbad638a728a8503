// The registers of a newer Daly unit (shared/daly-modbus-protocol.md sections 3 and 4), computed
// from the same BatteryModel the 0xA5 protocol answers from, and the effect of writes on it.
// An image is a Map register → u16; a read touching a register not in it is not answered.

const clamp = v => Math.max(0, Math.min(0xffff, Math.round(v)))
const signedOffset = (v, scale) => clamp(30000 + v * scale)

function ascii(text, registers) {
    const b = Buffer.alloc(2 * registers)
    b.write(text, "ascii")
    return Array.from({ length: registers }, (_, i) => b.readUInt16BE(2 * i))
}

function put(image, start, values) {
    values.forEach((v, i) => image.set(start + i, clamp(v)))
}

function packFacts(m) {
    const cells = m.cellVoltagesMv()
    const temps = m.temperaturesC()
    const max = Math.max(...cells)
    const min = Math.min(...cells)
    const tMax = Math.max(...temps)
    const tMin = Math.min(...temps)
    const amps = m.effectiveCurrent()
    const bits = m.balancingBits()
    const volts = m.packVoltageDv() / 10
    return {
        cells, temps, max, min, tMax, tMin, amps, volts,
        bitsWord: i => Number((bits >> BigInt(16 * i)) & 0xffffn),
        avg: Math.round(cells.reduce((a, b) => a + b, 0) / cells.length),
        power: Math.abs(Math.round(volts * amps)),
        balancing: bits !== 0n,
    }
}

/** D2 registers: live block 0x00-0x4F, settings 0x80-0xA8, versions 0xA9-0xB8, balancer 0xCF. */
export function d2Image(m) {
    if (m.cellCount > 32) throw new Error(`the D2 register map has 32 cell slots, not ${m.cellCount}`)
    if (m.sensorCount > 8) throw new Error(`the D2 register map has 8 temperature slots, not ${m.sensorCount}`)
    const f = packFacts(m)
    const a = m.alarmBytes() // the D2 fault words hold the 0x98 alarm bytes: low byte first (3.2)
    const img = new Map()
    put(img, 0x00, Array.from({ length: 32 }, (_, i) => f.cells[i] ?? 0))
    put(img, 0x20, Array.from({ length: 8 }, (_, i) => (i < f.temps.length ? f.temps[i] + 40 : 0)))
    put(img, 0x28, [
        m.packVoltageDv(), signedOffset(f.amps, 10), m.soc * 10, f.max, f.min, f.tMax + 40, f.tMin + 40, m.state,
        m.remainingAh * 10, m.cellCount, m.sensorCount, m.cycles, f.balancing ? 1 : 0, m.chargeMos ? 1 : 0,
        m.dischargeMos ? 1 : 0, f.avg, f.max - f.min, f.power,
        (a[1] << 8) | a[0], (a[3] << 8) | a[2], (a[5] << 8) | a[4], a[6],
        f.bitsWord(0), f.bitsWord(1), signedOffset(m.balanceCurrentA(), 1000), 0, m.mosTempC + 40, 0,
    ])
    put(img, 0x44, Array(12).fill(0))
    const t = m.thresholds
    put(img, 0x80, [m.capacityAh * 10, m.nominalCellMv, 1, m.cellCount, 0, 0, m.sensorCount, 0, 0, 0, m.sleepS,
        t.cellHighL1Mv, t.cellHighL2Mv, t.cellLowL1Mv, t.cellLowL2Mv])
    put(img, 0x8f, Array(0xa5 - 0x8f).fill(0))
    put(img, 0xa5, [m.chargeMos ? 1 : 0, m.dischargeMos ? 1 : 0, m.soc * 10, 0])
    put(img, 0xa9, [...ascii(m.softwareVersion, 8), ...ascii(m.hardwareVersion, 8)])
    img.set(0xcf, m.balancerOn ? 1 : 0)
    return img
}

/** p81 registers: live 0x00-0x7E, balancer 0xCF, settings 0x100-0x122, versions 0x178-0x18C. */
export function p81Image(m, board) {
    if (m.sensorCount > 8) throw new Error(`the 0x81 register map has 8 temperature slots, not ${m.sensorCount}`)
    const f = packFacts(m)
    const img = new Map()
    const rtc = m.clock()
    const bytes2 = (a, b) => (a << 8) | b
    put(img, 0x00, Array.from({ length: 48 }, (_, i) => f.cells[i] ?? 0))
    put(img, 0x30, Array.from({ length: 8 }, (_, i) => (i < f.temps.length ? f.temps[i] + 40 : 0)))
    put(img, 0x38, [
        m.packVoltageDv(), signedOffset(f.amps, 10), m.soc * 10, m.life, m.cellCount, m.sensorCount,
        f.max, f.cells.indexOf(f.max) + 1, f.min, f.cells.indexOf(f.min) + 1, f.max - f.min,
        f.tMax + 40, f.temps.indexOf(f.tMax) + 1, f.tMin + 40, f.temps.indexOf(f.tMin) + 1, f.tMax - f.tMin,
        m.state, m.chargerPresent ? 1 : 0, m.loadPresent ? 1 : 0, m.remainingAh * 10, m.cycles, f.balancing ? 1 : 0,
        signedOffset(m.balanceCurrentA(), 1000), f.bitsWord(0), f.bitsWord(1), f.bitsWord(2),
        m.chargeMos ? 1 : 0, m.dischargeMos ? 1 : 0, m.prechargeMos ? 1 : 0, m.heaterOn ? 1 : 0, m.fanOn ? 1 : 0,
        f.avg, f.power, m.energyWh(), m.mosTempC + 40, m.boardTempC + 40, 0, 0, 0xffff, 0, 30000,
        bytes2(rtc.getUTCFullYear() % 100, rtc.getUTCMonth() + 1), bytes2(rtc.getUTCDate(), rtc.getUTCHours()),
        bytes2(rtc.getUTCMinutes(), rtc.getUTCSeconds()), 0, 0, 0, 0, 0, 0, signedOffset(f.amps, 10), 0x11, m.soc * 10,
        ...p81Faults(m), ...Array(8).fill(0xffff), 0xff, 0, 2,
    ])
    img.set(0xcf, m.balancerOn ? 0xffff : 0)
    put(img, 0x100, Array(0x23).fill(0))
    img.set(0x100, board)
    img.set(0x115, m.sleepS ? Math.round(m.sleepS / 10) : 0xffff)
    img.set(0x116, m.soc * 10)
    img.set(0x121, m.chargeMos ? 1 : 0)
    img.set(0x122, m.dischargeMos ? 1 : 0)
    const version = Buffer.alloc(42)
    version.write(m.softwareVersion.slice(0, 27), 0, "ascii")
    version.write(m.hardwareVersion.slice(0, 13), 28, "ascii")
    put(img, 0x178, Array.from({ length: 21 }, (_, i) => version.readUInt16BE(2 * i)))
    return img
}

/** The new fault words 0x6D-0x73 (4.3) from the model's alarms: level 1 or 2 of each 3-bit field. */
function p81Faults(m) {
    const a = m.alarmBytes()
    const lvl = (byte, l1bit) => (a[byte] & (2 << l1bit) ? 2 : a[byte] & (1 << l1bit) ? 1 : 0)
    const words = [
        lvl(0, 0) | (lvl(0, 2) << 3) | ((lvl(3, 0) | (lvl(1, 0) << 3)) << 8),
        lvl(1, 2) | (lvl(1, 4) << 3) | ((lvl(1, 6) | (lvl(3, 2) << 3)) << 8),
        lvl(0, 4) | (lvl(0, 6) << 3) | ((lvl(2, 0) | (lvl(2, 2) << 3)) << 8),
        lvl(2, 6), 0, 0, 0,
    ]
    return words.map((w, i) => w | m.forcedFaultWords[i])
}

/**
 * A write (function 06) to a newer unit: changes the model and returns true, or false for a
 * register the scheme does not take (no answer, as real units do).
 */
export function applyWrite(m, protocol, register, value, emit) {
    const d2 = protocol === "d2"
    if (register === (d2 ? 0xa5 : 0x121) || register === (d2 ? 0xa6 : 0x122)) {
        if (value > 1) return false
        const charge = register === (d2 ? 0xa5 : 0x121)
        if (charge) m.chargeMos = value === 1
        else m.dischargeMos = value === 1
        emit({ register, [charge ? "chargeMos" : "dischargeMos"]: value === 1 })
        return true
    }
    if (register === (d2 ? 0xa7 : 0x116)) {
        if (value > 1000) return false
        m.soc = value / 10
        emit({ register, soc: value / 10 })
        return true
    }
    if (register === 0xcf) {
        m.balancerOn = value !== 0
        emit({ register, balancer: m.balancerOn })
        return true
    }
    if (d2 && register === 0xf0 && value === 1) {
        m.life = 0
        emit({ register, restart: true })
        return true
    }
    if (!d2 && (register === 0x1f7 || register === 0x1f8) && value <= 1) {
        if (register === 0x1f7) m.heaterOn = value === 1
        else m.fanOn = value === 1
        emit({ register, value })
        return true
    }
    return false
}

/** The values of `count` registers from `start`, or null when one is not in the image. */
export function readImage(image, start, count) {
    const values = []
    for (let r = start; r < start + count; r++) {
        if (!image.has(r)) return null
        values.push(image.get(r))
    }
    return values
}
