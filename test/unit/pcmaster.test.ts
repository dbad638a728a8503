import { describe, test, expect } from "@devicescript/test"
import { isBmsRequest } from "../../src/pcmaster/session"

describe("PCMaster bridge: what may reach the BMS", () => {
    test("whole 0xA5 frames with a right checksum, one or several", () => {
        const f = hex`A5 40 90 08 00 00 00 00 00 00 00 00 7D`
        expect(isBmsRequest(f)).toBe(true)
        expect(isBmsRequest(f.concat(hex`A5 80 95 08 00 00 00 00 00 00 00 00 C2`))).toBe(true)
    })
    test("a Modbus-style request with its CRC (both schemes)", () => {
        expect(isBmsRequest(hex`D2 03 00 00 00 3E D7 B9`)).toBe(true)
        expect(isBmsRequest(hex`81 03 00 00 00 40 5B FA`)).toBe(true)
        expect(isBmsRequest(hex`D2 06 00 CF 00 01 6B 96`)).toBe(true)
    })
    test("garbage, a wrong checksum or CRC, a cut frame: never", () => {
        expect(isBmsRequest(hex`A5 40 90 08 00 00 00 00 00 00 00 00 7E`)).toBe(false)
        expect(isBmsRequest(hex`A5 40 90 08 00 00 00 00 00 00 00 00`)).toBe(false)
        expect(isBmsRequest(hex`D2 03 00 00 00 3E D7 B8`)).toBe(false)
        expect(isBmsRequest(hex`00 01 02`)).toBe(false)
        expect(isBmsRequest(Buffer.alloc(0))).toBe(false)
        expect(isBmsRequest(hex`47 45 54 20 2F 20 48 54 54 50 2F 31 2E 31 0D 0A`)).toBe(false)
    })
})
