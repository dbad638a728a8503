import { describe, test, expect } from "@devicescript/test"
import { checksum, decodePackBasics, encodeRequest, FrameReader, FrameSequence } from "../../src/bms/frame"

const hexFrame = (s: string) => Buffer.from(s.split(" ").join(""), "hex")

describe("request frames (byte-exact against public captures)", () => {
    test("0x90 at address 0x40", () => {
        expect(encodeRequest(0x40, 0x90).toString("hex")).toBe("a54090080000000000000000" + "7d")
    })
    test("0x95 at address 0x80", () => {
        expect(encodeRequest(0x80, 0x95).toString("hex")).toBe("a58095080000000000000000" + "c2")
    })
    test("charge MOS on and off", () => {
        expect(encodeRequest(0x40, 0xda, Buffer.from([1])).toString("hex")).toBe("a540da080100000000000000" + "c8")
        expect(encodeRequest(0x40, 0xda, Buffer.from([0])).toString("hex")).toBe("a540da080000000000000000" + "c7")
    })
    test("set RTC 2022-12-13 21:29:39 and SOC 30.0 %", () => {
        const data = Buffer.from([0x16, 0x0c, 0x0d, 0x15, 0x1d, 0x27, 0x01, 0x2c])
        expect(encodeRequest(0x40, 0x21, data).toString("hex")).toBe("a54021081" + "60c0d151d27012c" + "c3")
    })
})

describe("0x90 replies decode to their stated meaning", () => {
    test("57.0 V, 0.0 A, 49.3 %", () => {
        const p = decodePackBasics(hexFrame("A5 01 90 08 02 3A 00 00 75 30 01 ED 0D"))
        expect(p.voltageV).toBe(57)
        expect(p.currentA).toBe(0)
        expect(p.socPct).toBe(49.3)
    })
    test("13.0 V, 0.0 A, 49.9 %", () => {
        const p = decodePackBasics(hexFrame("A5 01 90 08 00 82 00 00 75 30 01 F3 59"))
        expect(p.voltageV).toBe(13)
        expect(p.socPct).toBe(49.9)
    })
    test("the 14-cell capture: 53.0 V, 0.0 A, 51.2 %", () => {
        const p = decodePackBasics(hexFrame("A5 01 90 08 02 12 00 00 75 30 02 00 F9"))
        expect(p.voltageV).toBe(53)
        expect(p.currentA).toBe(0)
        expect(p.socPct).toBe(51.2)
    })
    test("discharging current is negative", () => {
        const f = encodeRequest(0x01, 0x90, Buffer.from([0x02, 0x12, 0, 0, 0x74, 0xcc, 0x02, 0x00]))
        expect(decodePackBasics(f).currentA).toBe(-10)
    })
    test("absurd frames are rejected: raw current 0, SOC over 100 %", () => {
        expect(decodePackBasics(encodeRequest(0x01, 0x90, Buffer.from([0x02, 0x12, 0, 0, 0, 0, 0x02, 0])))).toBe(null)
        expect(decodePackBasics(encodeRequest(0x01, 0x90, Buffer.from([0x02, 0x12, 0, 0, 0x75, 0x30, 0x03, 0xe9])))).toBe(null)
    })
})

describe("frame reader", () => {
    const good = hexFrame("A5 01 91 08 0C B5 02 0C B2 01 00 03 C4")
    test("checksum of a public frame", () => {
        expect(checksum(good)).toBe(0xc4)
    })
    test("resynchronises through garbage holding a false A5", () => {
        const r = new FrameReader()
        const frames = r.push(Buffer.from([0x00, 0xa5, 0x13, 0xff]).concat(good))
        expect(frames.length).toBe(1)
        expect(frames[0].toString("hex")).toBe(good.toString("hex"))
    })
    test("a frame split across two chunks", () => {
        const r = new FrameReader()
        expect(r.push(good.slice(0, 5)).length).toBe(0)
        expect(r.push(good.slice(5)).length).toBe(1)
    })
    test("bad checksum, bad length and request address are dropped", () => {
        const r = new FrameReader()
        const bad = good.slice(0)
        bad[12] = 0xc5
        const request = encodeRequest(0x40, 0x90)
        const wrongLength = hexFrame("A5 01 91 07 0C B5 02 0C B2 01 00 03 C3")
        expect(r.push(bad.concat(request).concat(wrongLength)).length).toBe(0)
    })
    test("a truncated frame followed by a whole one", () => {
        const r = new FrameReader()
        const frames = r.push(good.slice(0, 7).concat(good))
        expect(frames.length).toBe(1)
    })
})

/** Offers frame numbers in turn; returns the ones the reply is made of and whether it completed. */
function offer(count: number, numbers: number[]) {
    const seq = new FrameSequence(count)
    let taken: number[] = []
    for (const n of numbers) {
        if (seq.complete()) break
        if (seq.offer(n)) {
            if (n === 1) taken = [] // the reply starts again: what was taken before is dropped
            taken.push(n)
        }
    }
    return { taken: taken.join(","), complete: seq.complete() }
}

describe("frames of a multi-frame reply only in order 1..N", () => {
    test("in order: complete", () => {
        const r = offer(6, [1, 2, 3, 4, 5, 6])
        expect(r.taken).toBe("1,2,3,4,5,6")
        expect(r.complete).toBe(true)
    })
    test("the previous reply's frame 6 before frame 1 is discarded (mpp-solar#516)", () => {
        const r = offer(6, [6, 1, 2, 3, 4, 5, 6])
        expect(r.taken).toBe("1,2,3,4,5,6")
        expect(r.complete).toBe(true)
    })
    test("a leftover of every frame number before frame 1 never completes a reply", () => {
        for (let k = 1; k <= 6; k++) {
            expect(offer(6, [k, 1, 2, 3, 4, 5]).complete).toBe(false)
            expect(offer(6, [k, 1, 2, 3, 4, 5, 6]).taken).toBe("1,2,3,4,5,6")
        }
    })
    test("a jump is discarded; the reply cannot complete without the missing frame", () => {
        const r = offer(3, [1, 3, 3])
        expect(r.taken).toBe("1")
        expect(r.complete).toBe(false)
    })
    test("a repeat makes the reply ambiguous: it starts again at frame 1", () => {
        expect(offer(3, [1, 2, 2, 3]).complete).toBe(false)
        expect(offer(3, [1, 2, 2, 3, 1, 2, 3]).taken).toBe("1,2,3")
    })
})
