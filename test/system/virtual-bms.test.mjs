// The virtual Daly BMS on its own (the peer every BMS test relies on): protocol, wire timing, sleep,
// commands that change the model, faults, capture parsing.
import { test } from "node:test"
import assert from "node:assert/strict"
import { VirtualBms, FAULT_KINDS } from "../../host/bms/virtual-bms.mjs"
import { parseCapture, CaptureBms } from "../../host/bms/capture.mjs"
import { checksum, FRAME_LENGTH } from "../../host/bms/daly-frame.mjs"
import { BYTE_MS } from "../../host/bms/wire.mjs"
import fs from "node:fs"
import path from "node:path"
import { tempDir } from "./helpers.mjs"

const request = (id, address = 0x40, data = []) => {
    const f = Buffer.alloc(13)
    f[0] = 0xa5
    f[1] = address
    f[2] = id
    f[3] = 8
    Buffer.from(data).copy(f, 4)
    f[12] = checksum(f)
    return f
}

/** Sends a request and collects what comes back within `ms`; resolves with bytes and timing. */
function ask(bms, req, ms = 150) {
    return new Promise(resolve => {
        const chunks = []
        const t0 = Date.now()
        let last = t0
        const onData = c => {
            chunks.push(c)
            last = Date.now()
        }
        bms.on("data", onData)
        bms.write(req)
        setTimeout(() => {
            bms.removeListener("data", onData)
            resolve({ bytes: Buffer.concat(chunks), elapsed: last - t0 })
        }, ms)
    })
}

const frames = bytes => Array.from({ length: bytes.length / FRAME_LENGTH }, (_, i) => bytes.subarray(i * 13, i * 13 + 13))

test("answers every read id with valid frames; multi-frame replies are complete", async t => {
    const bms = new VirtualBms({ cells: 16, temperatureSensors: 9 })
    t.after(() => bms.close())
    const expected = { 0x90: 1, 0x91: 1, 0x92: 1, 0x93: 1, 0x94: 1, 0x95: 6, 0x96: 2, 0x97: 1, 0x98: 1, 0x50: 1, 0x53: 1, 0x57: 5, 0x59: 1, 0x5a: 1, 0x61: 1 }
    for (const [id, count] of Object.entries(expected)) {
        const { bytes } = await ask(bms, request(Number(id)), 200)
        const fs_ = frames(bytes)
        assert.equal(fs_.length, count, `frames for 0x${Number(id).toString(16)}`)
        for (const f of fs_) {
            assert.equal(f[0], 0xa5)
            assert.equal(f[1], 0x01)
            assert.equal(f[2], Number(id))
            assert.equal(f[12], checksum(f))
        }
    }
    const cells = frames((await ask(bms, request(0x95))).bytes)
    assert.deepEqual(cells.map(f => f[4]), [1, 2, 3, 4, 5, 6])
    const mv = cells.flatMap(f => [f.readUInt16BE(5), f.readUInt16BE(7), f.readUInt16BE(9)]).slice(0, 16)
    assert.deepEqual(mv, bms.model.cellVoltagesMv())
    assert.equal(cells[5].readUInt16BE(7), 0, "cells beyond the count are 0")
})

test("9600-baud timing: a reply takes its wire time", async t => {
    const bms = new VirtualBms({ cells: 48 })
    t.after(() => bms.close())
    const { bytes, elapsed } = await ask(bms, request(0x95), 400)
    assert.equal(bytes.length, 16 * 13)
    const wireMs = (13 + 16 * 13) * BYTE_MS // request in, 16 frames out
    assert.ok(elapsed >= wireMs, `${elapsed} ms >= ${wireMs.toFixed(0)} ms of wire time`)
    assert.ok(elapsed < wireMs + 80, `${elapsed} ms is not far above the wire time`)
})

test("both request addresses by default; a unit can be limited to one", async t => {
    const both = new VirtualBms({})
    const only80 = new VirtualBms({ addresses: [0x80] })
    t.after(() => (both.close(), only80.close()))
    assert.equal((await ask(both, request(0x90, 0x80))).bytes.length, 13)
    assert.equal((await ask(only80, request(0x90, 0x40))).bytes.length, 0)
    assert.equal((await ask(only80, request(0x90, 0x80))).bytes.length, 13)
})

test("writes change the model: MOS switches, SOC and clock, reset", async t => {
    const bms = new VirtualBms({ soc: 40, current: 10 })
    t.after(() => bms.close())
    let r = await ask(bms, request(0xda, 0x40, [0]))
    assert.equal(r.bytes[4], 0)
    assert.equal(bms.model.chargeMos, false)
    assert.equal(bms.model.effectiveCurrent(), 0, "an open charge MOS blocks charging")
    r = await ask(bms, request(0xd9, 0x40, [0]))
    assert.equal(bms.model.dischargeMos, false)
    r = await ask(bms, request(0x21, 0x40, [0x16, 0x0c, 0x0d, 0x15, 0x1d, 0x27, 0x01, 0x2c]))
    assert.equal(r.bytes[4], 1)
    assert.equal(Math.round(bms.model.soc * 10), 300)
    assert.equal(bms.model.clock().toISOString().slice(0, 19), "2022-12-13T21:29:39")
    r = await ask(bms, request(0x21, 0x40, [0x16, 0x0d, 0x0d, 0x15, 0x1d, 0x27, 0x01, 0x2c])) // month 13
    assert.equal(r.bytes[4], 0)
    await ask(bms, request(0x00))
    assert.equal(bms.model.chargeMos && bms.model.dischargeMos, true)
    const soc = (await ask(bms, request(0x90))).bytes.readUInt16BE(10)
    assert.equal(soc, 300)
})

test("SOC integrates the current", async t => {
    const bms = new VirtualBms({ capacityAh: 1, soc: 50, current: 360 }) // 360 A on 1 Ah: 10 % per second
    t.after(() => bms.close())
    const t0 = Date.now()
    bms.model.step(t0)
    await new Promise(r => setTimeout(r, 500))
    const t1 = Date.now() // a loaded machine's timer fires late: the SOC follows the time that passed
    bms.model.step(t1)
    const want = 50 + ((t1 - t0) / 1000) * 10
    assert.ok(Math.abs(bms.model.soc - want) < 0.01, `soc ${bms.model.soc} after ${t1 - t0} ms, not ${want}`)
})

test("sleep on command and after an idle time; wakes up", async t => {
    const bms = new VirtualBms({ idleSleepS: 0.2 })
    t.after(() => bms.close())
    assert.equal((await ask(bms, request(0x90))).bytes.length, 13)
    bms.sleep()
    assert.equal((await ask(bms, request(0x90))).bytes.length, 0)
    bms.wake()
    assert.equal((await ask(bms, request(0x90))).bytes.length, 13)
    await new Promise(r => setTimeout(r, 300))
    assert.equal((await ask(bms, request(0x90))).bytes.length, 0, "asleep after 0.2 s without current")
})

test("each fault kind does what it says", async t => {
    const bms = new VirtualBms({ cells: 7, seed: 7 })
    t.after(() => bms.close())
    const clean = (await ask(bms, request(0x95))).bytes
    assert.equal(clean.length, 39)
    bms.injectOnce("bad_checksum")
    const bad = frames((await ask(bms, request(0x95))).bytes)
    assert.equal(bad.filter(f => f[12] !== checksum(f)).length, 1)
    bms.injectOnce("truncated")
    const cut = (await ask(bms, request(0x95))).bytes
    assert.ok(cut.length < 39 && cut.length % 13 !== 0)
    bms.injectOnce("stale_frame")
    const stale = (await ask(bms, request(0x90))).bytes
    assert.equal(stale.length, 26)
    assert.equal(stale[2], 0x95, "the previous reply's last frame comes first")
    bms.injectOnce("garbage")
    assert.ok((await ask(bms, request(0x90))).bytes.length > 13)
    bms.injectOnce("extra_frames")
    assert.equal((await ask(bms, request(0x95), 400)).bytes.length, 16 * 13)
    assert.throws(() => bms.injectOnce("gremlins"), /unknown fault kind: gremlins/)
    bms.setFaults({ rate: 0.5 })
    for (let i = 0; i < 20; i++) await ask(bms, request(0x90), 40)
    assert.ok(bms.stats.faults >= 5 + 3, `faults at random: ${bms.stats.faults}`)
    assert.deepEqual(FAULT_KINDS, ["bad_checksum", "truncated", "stale_frame", "garbage", "extra_frames", "leftover"])
})

test("capture format: concatenated lines per id, silent, comments; errors name the line", async t => {
    const m = parseCapture("# c\n\n95: A5 01\n95: 95 08\n94: silent\n90: a5 01 90\n", "x.txt")
    assert.deepEqual([...m.get(0x95)], [0xa5, 0x01, 0x95, 0x08])
    assert.equal(m.get(0x94), null)
    assert.throws(() => parseCapture("9: A5\n", "x.txt"), /^Error: x\.txt:1: malformed line "9: A5"/)
    assert.throws(() => parseCapture("# ok\n90: A5 0G\n", "x.txt"), /x\.txt:2: malformed bytes "A5 0G"/)
    const dir = tempDir(t)
    const file = path.join(dir, "c.txt")
    fs.writeFileSync(file, "95: A5 01 95 08 01 0E CE 0E D2 0E D1 00 DF\n95: A5 01 95 08 02 0E CF 0E D1 0E D1 00 E0\n94: silent\n")
    const cap = new CaptureBms(file)
    t.after(() => cap.close())
    assert.equal((await ask(cap, request(0x95, 0x80))).bytes.length, 26)
    assert.equal((await ask(cap, request(0x94))).bytes.length, 0)
    assert.equal((await ask(cap, request(0x90))).bytes.length, 0)
})

test("register-image capture: reads all in the image answered, others not; writes change it and are echoed", async t => {
    const { readRequest, writeRequest, crcOk } = await import("../../host/bms/modbus-frame.mjs")
    const dir = tempDir(t)
    const file = path.join(dir, "image.txt")
    fs.writeFileSync(file, "# board 2\nprotocol 81 board 2\n@0000: 0CF4 0CF0\n@0121: 0001 0001\n")
    const cap = new CaptureBms(file)
    t.after(() => cap.close())
    const r = (await ask(cap, readRequest(0x82, 0, 2))).bytes
    assert.deepEqual([...r.subarray(0, 7)], [0x52, 3, 4, 0x0c, 0xf4, 0x0c, 0xf0])
    assert.ok(crcOk(r))
    assert.equal((await ask(cap, readRequest(0x82, 0, 3))).bytes.length, 0, "register 2 is not in the image")
    assert.equal((await ask(cap, readRequest(0x81, 0, 2))).bytes.length, 0, "board 1 is not this unit")
    const echo = (await ask(cap, writeRequest(0x82, 0x121, 0))).bytes
    assert.deepEqual([...echo.subarray(0, 6)], [0x52, 6, 0x01, 0x21, 0, 0])
    assert.ok(crcOk(echo))
    assert.deepEqual([...(await ask(cap, readRequest(0x82, 0x121, 2))).bytes.subarray(3, 7)], [0, 0, 0, 1])
    assert.equal((await ask(cap, writeRequest(0x82, 0x200, 1))).bytes.length, 0, "a write outside the image is not answered")
    assert.match(cap.describe(), /register image, protocol 81 board 2, 4 registers/)
})

test("the virtual BMS in the newer protocol: its reply address, CRC low byte first, the other protocol ignored", async t => {
    const { readRequest, crcOk, crc16 } = await import("../../host/bms/modbus-frame.mjs")
    const bms = new VirtualBms({ protocol: "81", board: 4, cells: 20 })
    t.after(() => bms.close())
    const r = (await ask(bms, readRequest(0x84, 0, 64), 300)).bytes
    assert.equal(r.length, 5 + 128)
    assert.deepEqual([r[0], r[1], r[2]], [0x54, 3, 128])
    const crc = crc16(r, r.length - 2)
    assert.deepEqual([r.at(-2), r.at(-1)], [crc & 0xff, crc >> 8], "CRC low byte first")
    assert.ok(crcOk(r))
    assert.equal((await ask(bms, request(0x90))).bytes.length, 0, "0xA5 frames are not answered")
    assert.throws(() => new VirtualBms({ protocol: "d2", cells: 40 }), /32 cell slots/)
})
