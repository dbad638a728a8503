import { describe, test, expect } from "@devicescript/test"
import { findReply, FN_READ, FN_WRITE, modbusRequest } from "../../src/bms/modbus-frame"
import { decodeLive, decodeSlow, PROTO_D2, PROTO_P81 } from "../../src/bms/registers"
import { BmsInfo, BmsReadings } from "../../src/bms/decode"

const hex = (s: string) => Buffer.from(s.split(" ").join(""), "hex")

describe("Modbus-style requests, byte-exact with the shared notes' CRC vectors", () => {
    test("D2 live block, 80 registers from 0", () => {
        expect(modbusRequest(0xd2, FN_READ, 0, 0x50).toString("hex")).toBe("d20300000050" + "5655")
    })
    test("0x81 first block and board 2", () => {
        expect(modbusRequest(0x81, FN_READ, 0, 0x40).toString("hex")).toBe("810300000040" + "5bfa")
        expect(modbusRequest(0x82, FN_READ, 0, 0x40).toString("hex")).toBe("820300000040" + "5bc9")
    })
    test("writes: 0x81 charge MOS off, D2 balancer on and off", () => {
        expect(modbusRequest(0x81, FN_WRITE, 0x121, 0).toString("hex")).toBe("810601210000" + "c7fc")
        expect(modbusRequest(0xd2, FN_WRITE, 0xcf, 1).toString("hex")).toBe("d20600cf0001" + "6b96")
        expect(modbusRequest(0xd2, FN_WRITE, 0xcf, 0).toString("hex")).toBe("d20600cf0000" + "aa56")
    })
})

describe("replies found in a stream with garbage", () => {
    test("real one-register replies (D2 and 0x51) after noise; a bad CRC is no reply", () => {
        const d2 = findReply(hex("00 D2 03 D2 03 02 00 01 FC 56"), 0xd2, FN_READ, 7)
        expect(d2.toString("hex")).toBe("d203020001fc56")
        const p81 = findReply(hex("A5 01 51 03 02 FF FF 79 F8"), 0x51, FN_READ, 7)
        expect(p81.toString("hex")).toBe("510302ffff79f8")
        expect(findReply(hex("51 03 02 FF FF 79 F9"), 0x51, FN_READ, 7)).toBe(null)
        expect(findReply(hex("51 03 02 FF FF 79"), 0x51, FN_READ, 7)).toBe(null)
    })
    test("the p81 write echo comes from the reply address (BMS_BLE-HA#806)", () => {
        expect(findReply(hex("51 06 01 74 00 A2 45 C5"), 0x51, FN_WRITE, 8).toString("hex")).toBe("5106017400a245c5")
    })
    test("version strings: NUL or 0xFF ends them, a full field too", () => {
        const info: BmsInfo = {}
        decodeSlow(28, Buffer.from("41_260321_0323ESS-DL-BMS\0\0\0\0ESS41_0323\0\0\0\0"), info)
        expect(info.firmwareVersion).toBe("41_260321_0323ESS-DL-BMS")
        expect(info.hardwareVersion).toBe("ESS41_0323")
        decodeSlow(16, Buffer.from("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"), info)
        expect(info.firmwareVersion).toBe("ABCDEFGHIJKLMNOP")
        expect(info.hardwareVersion).toBe("QRSTUVWXYZ012345")
    })
    test("balancer switch: 0xFFFF (p81 ESS) and 1 (D2) read as on", () => {
        const info: BmsInfo = {}
        decodeSlow(2, hex("FF FF"), info)
        expect(info.balancerOn).toBe(true)
        decodeSlow(2, hex("00 00"), info)
        expect(info.balancerOn).toBe(false)
    })
})

/** Register data with `values` placed at their registers (others 0). */
function registers(count: number, values: number[][]) {
    const d = Buffer.alloc(2 * count)
    for (const v of values) {
        if (v[0] >= count) continue
        d[2 * v[0]] = v[1] >> 8
        d[2 * v[0] + 1] = v[1] & 0xff
    }
    return d
}

describe("live registers decode into the readings", () => {
    test("p81, the ESS-DL-BMS values of the shared notes (section 4)", () => {
        const v = [[0x38, 530], [0x39, 29911], [0x3a, 864], [0x3c, 16], [0x3d, 4], [0x43, 62], [0x45, 62], [0x48, 2], [0x4b, 2712],
            [0x4c, 7], [0x4d, 7], [0x52, 1], [0x53, 1], [0x58, 471], [0x5a, 64], [0x5b, 70], [0x70, 0x0080]]
        for (let i = 0; i < 16; i++) v.push([i, 3314])
        for (let i = 0; i < 4; i++) v.push([0x30 + i, 62])
        const r: BmsReadings = {}
        expect(decodeLive(PROTO_P81, registers(0x74, v), r)).toBe(true)
        expect(r.voltageDv).toBe(530)
        expect(r.rawCurrent).toBe(29911)
        expect(r.socPermille).toBe(864)
        expect(r.remainingMah).toBe(271200)
        expect(r.cycles).toBe(7)
        expect(r.tempsC.join(",")).toBe("22,22,22,22")
        expect(r.mosTempC).toBe(24)
        expect(r.boardTempC).toBe(30)
        expect(r.balanceCurrentA).toBe(null) // raw 0: not measured
        expect(r.balancerActive).toBe(true)
        expect(r.alarmNames.join(",")).toBe("parallel_comm_error")
        expect(r.alarms[5]).toBe(0x40) // 0x98 B5 bit 6, communication failure
    })
    test("p81 fault levels: level 2 sets L1 and L2 of the 0x98 layout", () => {
        const v = [[0x38, 530], [0x39, 30000], [0x3a, 500], [0x3c, 4], [0x3d, 1], [0x6d, 2 | (1 << 3)]]
        const r: BmsReadings = {}
        expect(decodeLive(PROTO_P81, registers(0x74, v), r)).toBe(true)
        expect(r.alarmNames.join(",")).toBe("cell_ovp_l2,cell_uvp_l1")
        expect(r.alarms[0]).toBe(0x07)
    })
    test("D2: blue-series current and MOS temperature; 62 registers leave the extras undefined", () => {
        const v = [[0x28, 530], [0x29, 29969], [0x2a, 500], [0x2f, 2], [0x31, 4], [0x32, 1], [0x40, 30000], [0x42, 55], [0x3a, 0x0201]]
        const full: BmsReadings = {}
        expect(decodeLive(PROTO_D2, registers(0x50, v), full)).toBe(true)
        expect(full.rawCurrent).toBe(29969)
        expect(full.mosTempC).toBe(15)
        expect(full.balanceCurrentA).toBe(0)
        expect(full.boardTempC).toBe(null)
        expect(full.alarms[0]).toBe(1) // 0x3A low byte first: cell volt high L1
        expect(full.alarms[1]).toBe(2)
        const short: BmsReadings = {}
        expect(decodeLive(PROTO_D2, registers(0x3e, v), short)).toBe(true)
        expect(short.mosTempC).toBe(undefined)
    })
    test("absurd values are rejected", () => {
        expect(decodeLive(PROTO_D2, registers(0x50, [[0x29, 30000], [0x31, 33]]), {})).toBe(false)
        expect(decodeLive(PROTO_D2, registers(0x50, [[0x29, 0], [0x31, 4]]), {})).toBe(false)
        expect(decodeLive(PROTO_P81, registers(0x74, [[0x39, 30000], [0x3c, 4], [0x3a, 1001]]), {})).toBe(false)
    })
})
