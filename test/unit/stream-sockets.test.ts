import { describe, test, expect } from "@devicescript/test"
import { formatAddress, parseAddress, seqBefore, SocketFailure } from "../../src/platform/stream-sockets"

describe("sequence numbers", () => {
    test("order with wrap-around", () => {
        expect(seqBefore(1, 2)).toBe(true)
        expect(seqBefore(2, 1)).toBe(false)
        expect(seqBefore(5, 5)).toBe(false)
        expect(seqBefore(0xffff, 0)).toBe(true)
        expect(seqBefore(0, 0xffff)).toBe(false)
    })
})

describe("addresses", () => {
    test("round trip", () => {
        expect(formatAddress(parseAddress("192.168.4.1"), 0)).toBe("192.168.4.1")
    })
    test("bad addresses throw", () => {
        expect(() => parseAddress("300.1.1.1")).toThrow()
        expect(() => parseAddress("smartbms.local")).toThrow()
    })
    test("failures name the error", () => {
        expect(new SocketFailure(1, "127.0.0.1:9").message).toBe("refused: 127.0.0.1:9")
    })
})
