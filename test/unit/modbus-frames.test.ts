import { describe, test, expect } from "@devicescript/test"
import { FrameSplitter } from "../../src/modbus/protocol"

/** A read of `count` registers from `start` with transaction id `t` (MBAP header + PDU). */
function read(t: number, start: number, count: number) {
    return Buffer.from([t >> 8, t & 0xff, 0, 0, 0, 6, 1, 3, start >> 8, start & 0xff, 0, count]) // big-endian
}

describe("Modbus TCP frames off a byte stream", () => {
    test("40 requests in one write are handed over one at a time, in order", () => {
        const s = new FrameSplitter()
        let all = Buffer.alloc(0)
        for (let t = 0; t < 40; t++) all = all.concat(read(t, 0x38, 1))
        s.push(all)
        let n = 0
        for (let f = s.next(); f; f = s.next()) {
            expect(f.transaction).toBe(n)
            expect(f.unit).toBe(1)
            expect(f.pdu.length).toBe(5)
            expect(f.pdu[0]).toBe(3)
            n++
        }
        expect(n).toBe(40)
        expect(s.error).toBe(null)
    })
    test("a frame cut anywhere is handed over once its last byte came", () => {
        const s = new FrameSplitter()
        const two = read(7, 0, 16).concat(read(8, 16, 4))
        for (let cut = 1; cut < two.length; cut++) {
            s.push(two.slice(0, cut))
            const seen: number[] = []
            for (let f = s.next(); f; f = s.next()) seen.push(f.transaction)
            s.push(two.slice(cut))
            for (let f = s.next(); f; f = s.next()) seen.push(f.transaction)
            expect(seen.join(",")).toBe("7,8")
        }
    })
    test("a malformed header stops the stream with the reason", () => {
        const s = new FrameSplitter()
        const bad = read(1, 0, 1)
        bad[3] = 7 // protocol id 7
        s.push(read(0, 0, 1).concat(bad))
        expect(s.next().transaction).toBe(0)
        expect(s.next()).toBe(null)
        expect(s.error).toBe("protocol id 7")
        const long = new FrameSplitter()
        const l = read(2, 0, 1)
        l[4] = 0xff // length 65535
        l[5] = 0xff
        long.push(l)
        expect(long.next()).toBe(null)
        expect(long.error).toBe("length 65535")
    })
})
