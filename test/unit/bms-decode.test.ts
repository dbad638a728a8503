import { describe, test, expect } from "@devicescript/test"
import { BmsInfo, BmsReadings, decodeInfo, decodeReading, framesFor } from "../../src/bms/decode"
import { buildSnapshot, packCurrent, readingsComplete } from "../../src/bms/snapshot"
import { alarmNames } from "../../src/bms/alarms"
import { FrameReader } from "../../src/bms/frame"


/** The complete 14-cell poll of daly-protocol.md ("live r24ts capture"). */
const CAPTURE_14 = [
    hex`A5 01 90 08 02 12 00 00 75 30 02 00 F9`,
    hex`A5 01 91 08 0E D2 02 0E CE 01 00 00 FE`,
    hex`A5 01 92 08 38 01 38 01 00 00 00 00 B2`,
    hex`A5 01 93 08 00 01 01 ED 00 00 A0 00 D0`,
    hex`A5 01 94 08 0E 02 00 00 00 00 00 3A 8C`,
    hex`A5 01 95 08 01 0E CE 0E D2 0E D1 00 DF`,
    hex`A5 01 95 08 02 0E CF 0E D1 0E D1 00 E0`,
    hex`A5 01 95 08 03 0E D1 0E D1 0E D2 00 E4`,
    hex`A5 01 95 08 04 0E D2 0E D2 0E CF 00 E4`,
    hex`A5 01 95 08 05 0E D1 0E CF 00 00 00 04`,
    hex`A5 01 96 08 01 38 38 00 00 FF FF FF B2`,
    hex`A5 01 97 08 00 00 00 00 00 00 00 00 45`,
    hex`A5 01 98 08 00 00 00 00 00 00 00 00 46`,
]

function decodeAll(frames: Buffer[]) {
    const r: BmsReadings = {}
    // 0x94 first, as the poller reads it: the cell and sensor counts place the multi-frame replies
    for (const f of frames) if (f[2] === 0x94) expect(decodeReading(f, r)).toBe(true)
    for (const f of frames) if (f[2] !== 0x94) expect(decodeReading(f, r)).toBe(true)
    return r
}

describe("public frames decode to their stated meaning", () => {
    test("0x91 max 3.253 V cell 2, min 3.250 V cell 1", () => {
        const r: BmsReadings = {}
        decodeReading(hex`A5 01 91 08 0C B5 02 0C B2 01 00 03 C4`, r)
        expect(r.maxCellMv).toBe(3253)
        expect(r.maxCell).toBe(2)
        expect(r.minCellMv).toBe(3250)
        expect(r.minCell).toBe(1)
    })
    test("0x94: 3 cells, 1 sensor, DIO 0x02, 0 cycles", () => {
        const r: BmsReadings = {}
        decodeReading(hex`A5 01 94 08 03 01 00 00 02 00 00 02 4A`, r)
        expect(r.cellCount).toBe(3)
        expect(r.sensorCount).toBe(1)
        expect(r.digitalIO).toBe(2)
        expect(r.cycles).toBe(0)
    })
    test("0x91 max 3.841 V cell 2, min 3.809 V cell 1", () => {
        const r: BmsReadings = {}
        decodeReading(hex`A5 01 91 08 0F 01 02 0E E1 01 01 EF 31`, r)
        expect(r.maxCellMv).toBe(3841)
        expect(r.minCellMv).toBe(3809)
    })
    test("0x92 max 24 °C sensor 1, min 24 °C sensor 1", () => {
        const r: BmsReadings = {}
        decodeReading(hex`A5 01 92 08 40 01 40 01 DF 01 01 EF 92`, r)
        expect(r.maxTempC).toBe(24)
        expect(r.minTempC).toBe(24)
    })
    test("0x93 idle, both MOS on, life 43, 14 850 mAh", () => {
        const r: BmsReadings = {}
        decodeReading(hex`A5 01 93 08 00 01 01 2B 00 00 3A 02 AA`, r)
        expect(r.state).toBe(0)
        expect(r.chargeMos).toBe(true)
        expect(r.dischargeMos).toBe(true)
        expect(r.life).toBe(43)
        expect(r.remainingMah).toBe(14850)
    })
})

describe("the 14-cell capture decodes to its stated snapshot", () => {
    test("53.0 V, 0.0 A, 51.2 %, 14 cells 3.790-3.794 V, two 16 °C, 40 960 mAh, no alarms", () => {
        const r = decodeAll(CAPTURE_14)
        expect(readingsComplete(r)).toBe(true)
        const s = buildSnapshot(r, {}, false, 1000)
        expect(s.voltageV).toBe(53)
        expect(s.currentA).toBe(0)
        expect(s.socPct).toBe(51.2)
        expect(s.cellsMv.length).toBe(14)
        expect(s.cellsMv.join(",")).toBe("3790,3794,3793,3791,3793,3793,3793,3793,3794,3794,3794,3791,3793,3791")
        expect(s.cellMinMv).toBe(3790)
        expect(s.cellMinNumber).toBe(1)
        expect(s.cellMaxMv).toBe(3794)
        expect(s.cellMaxNumber).toBe(2)
        expect(s.cellDeltaMv).toBe(4)
        expect(s.tempsC.join(",")).toBe("16,16")
        expect(s.remainingAh).toBe(40.96)
        expect(s.cycles).toBe(0) // bytes 5-6; byte 7 (0x3A) is a leftover
        expect(s.alarms.length).toBe(0)
        expect(s.balancing.length).toBe(0)
        expect(s.state).toBe("idle")
        expect(s.chargeMos && s.dischargeMos).toBe(true)
        expect(s.faultCode).toBe(0)
    })
    test("a cycle without every cell frame is not complete", () => {
        expect(readingsComplete(decodeAll(CAPTURE_14.filter(f => !(f[2] === 0x95 && f[4] === 3))))).toBe(false)
    })
    test("cell frames are placed by frame number, in any order, cells beyond the count dropped", () => {
        const shuffled = [CAPTURE_14[4], CAPTURE_14[9], CAPTURE_14[6], CAPTURE_14[5], CAPTURE_14[8], CAPTURE_14[7]]
        const r = decodeAll(shuffled)
        expect(r.cellsMv.length).toBe(14)
        expect(r.cellsMv[13]).toBe(3791)
        // all 16 frames, as over Bluetooth: frames 6..16 change nothing
        decodeReading(hex`A5 01 95 08 10 0E D1 0E CF 00 00 00 0F`, r)
        expect(r.cellsMv.length).toBe(14)
    })
})

describe("absurd frames are rejected", () => {
    test("raw current 0 and SOC over 100 %", () => {
        const r: BmsReadings = {}
        expect(decodeReading(hex`A5 01 90 08 02 12 00 00 00 00 02 00 54`, r)).toBe(false)
        expect(decodeReading(hex`A5 01 90 08 02 12 00 00 75 30 03 E9 E3`, r)).toBe(false)
        // a rejected read never completes a cycle; the next valid frame of the id sets every field again
        expect(decodeReading(hex`A5 01 90 08 02 12 00 00 75 30 02 00 F9`, r)).toBe(true)
        expect(r.rawCurrent).toBe(30000)
        expect(r.socPermille).toBe(512)
    })
    test("cell count 0 or over 48", () => {
        const r: BmsReadings = {}
        expect(decodeReading(hex`A5 01 94 08 00 02 00 00 00 00 00 00 44`, r)).toBe(false)
        expect(decodeReading(hex`A5 01 94 08 31 02 00 00 00 00 00 00 75`, r)).toBe(false)
        expect(decodeReading(hex`A5 01 94 08 30 02 00 00 00 00 00 00 74`, r)).toBe(true)
    })
    test("cell frames before the cell count is known", () => {
        expect(decodeReading(CAPTURE_14[5], {})).toBe(false)
    })
})

describe("current sign", () => {
    test("raw − 30000 in 0.1 A, positive charging", () => {
        expect(packCurrent(30125, 1, false).amps).toBe(12.5)
        expect(packCurrent(29875, 2, false).amps).toBe(-12.5)
    })
    test("the user's invert setting", () => {
        expect(packCurrent(30125, 0, true).amps).toBe(-12.5)
    })
    test("the 0x93 state corrects a sign that disagrees", () => {
        const c = packCurrent(29875, 1, false)
        expect(c.amps).toBe(12.5)
        expect(c.corrected).toBe(true)
        expect(packCurrent(30003, 2, false).corrected).toBe(false) // 0.3 A: too small to judge
    })
})

describe("alarms, balancing and slow data", () => {
    test("alarm bits by name", () => {
        const names = alarmNames(Buffer.from([0x01, 0, 0x08, 0, 0, 0x80, 0x04]))
        expect(names.join(",")).toBe("cell_volt_high_l1,discharge_overcurrent_l2,internal_communication_failure,short_circuit_protect_fault")
    })
    test("balancing bits become cell numbers", () => {
        const r = decodeAll(CAPTURE_14)
        decodeReading(hex`A5 01 97 08 05 20 00 00 00 00 00 00 6A`, r)
        expect(buildSnapshot(r, {}, false, 0).balancing.join(",")).toBe("1,3,14")
    })
    test("battery code over five frames, capacity", () => {
        const info: BmsInfo = {}
        expect(decodeInfo(hex`A5 01 57 08 01 53 4D 41 52 54 2D 42 FC`, info)).toBe(true)
        expect(decodeInfo(hex`A5 01 57 08 02 4D 53 2D 31 20 20 20 65`, info)).toBe(true)
        expect(info.batteryCode).toBe(undefined) // a part of the code is never published
        expect(decodeInfo(hex`A5 01 57 08 03 20 20 20 20 20 20 20 E8`, info)).toBe(true)
        expect(decodeInfo(hex`A5 01 57 08 04 20 20 20 20 20 20 20 E9`, info)).toBe(true)
        expect(info.batteryCode).toBe(undefined)
        expect(decodeInfo(hex`A5 01 57 08 05 20 20 20 20 20 20 20 EA`, info)).toBe(true)
        expect(info.batteryCode).toBe("SMART-BMS-1")
        // the next read, cut after its first frame: the whole code read before stays
        expect(decodeInfo(hex`A5 01 57 08 01 53 4D 41 52 54 2D 42 FC`, info)).toBe(true)
        expect(info.batteryCode).toBe("SMART-BMS-1")
        expect(decodeInfo(hex`A5 01 50 08 00 01 86 A0 00 00 0C 80 B1`, info)).toBe(true)
        expect(info.ratedMah).toBe(100000)
        expect(framesFor(0x95, 16, 2)).toBe(6)
        expect(framesFor(0x96, 16, 9)).toBe(2)
    })
})

describe("resync on a stream with garbage, truncation, stale and extra frames", () => {
    test("only whole valid frames come out, in order", () => {
        const reader = new FrameReader()
        const stream = Buffer.concat(
            Buffer.from([0x13, 0xa5, 0x01]), // garbage with a false start
            CAPTURE_14[12].slice(0, 9), // truncated stale frame
            CAPTURE_14[5],
            CAPTURE_14[6],
            CAPTURE_14[6], // a repeated frame
        )
        const got = reader.push(stream)
        expect(got.length).toBe(3)
        expect(got[0][4]).toBe(1)
        expect(got[1][4]).toBe(2)
    })
})
