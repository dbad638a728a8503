// Frames in order (0xA5): a checksum-valid frame of an earlier reply of the same data id (the
// leftover of jblance/mpp-solar#516) must never be shown as current data. Every frame number of
// 0x95, 0x96 and 0x97, through the virtual BMS's fault injection and through the capture replay;
// the values are read where a user sees them, in /api/status.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { startTestDongle, tempDir, pollCycles } from "./helpers.mjs"
import { VirtualBms } from "../../host/bms/virtual-bms.mjs"
import { toHex } from "../../host/bms/daly-frame.mjs"

async function apiDongle(t, options) {
    const d = await startTestDongle(t, options)
    await d.waitForLine(/^BMS link: ok/, { timeoutMs: 25000 })
    const port = await d.waitForPort(6789)
    d.status = async () => (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()).bms
    return d
}

/** Waits until the firmware published a snapshot of a poll cycle begun after now, then returns it. */
async function freshStatus(d) {
    await pollCycles(d)
    const s = await d.status()
    assert.equal(s.link, "ok")
    return s
}

test("16 cells: the previous 0x95 reply's frame 6 before frame 1 (the issue's case): /api/status shows the new cells", async t => {
    const d = await apiDongle(t, { bms: { cells: 16, temperatureSensors: 2 } })
    const m = d.bms.model
    d.bms.leftover(0x95, 6) // frame 6 holds cell 16: its old value now precedes every reply
    m.cellOffsetsMv = m.cellOffsetsMv.map(o => o + 25)
    const s = await freshStatus(d)
    assert.deepEqual(s.cells_mv, m.cellVoltagesMv())
    assert.equal(s.cells_mv[15], m.cellVoltagesMv()[15], "cell 16 is the new reply's value")
})

test("virtual BMS: a leftover of every frame number of 0x95, 0x96 and 0x97 is never taken", async t => {
    const d = await apiDongle(t, { bms: { cells: 16, temperatureSensors: 16 } })
    const m = d.bms.model
    const cases = [1, 2, 3, 4, 5, 6].map(n => [0x95, n]).concat([1, 2, 3].map(n => [0x96, n]), [[0x97, 1]])
    for (const [id, n] of cases) {
        d.bms.leftover(id, n)
        if (id === 0x95) m.cellOffsetsMv = m.cellOffsetsMv.map(o => o + 9)
        if (id === 0x96) m.ambientC += 3
        if (id === 0x97) m.forcedBalancing = m.forcedBalancing ? 0n : 0x8001n // cells 1 and 16
        const s = await freshStatus(d)
        const what = `leftover frame ${n} of 0x${id.toString(16)}`
        assert.deepEqual(s.cells_mv, m.cellVoltagesMv(), what)
        assert.deepEqual(s.temps_c, m.temperaturesC(), what)
        const bits = m.balancingBits()
        assert.deepEqual(s.balancing, [...Array(16).keys()].filter(i => (bits >> BigInt(i)) & 1n).map(i => i + 1), what)
        d.bms.leftover(id, null)
    }
})

test("the leftover fault kind at random for a minute: no wrong value", async t => {
    const d = await apiDongle(t, { bms: { cells: 16, temperatureSensors: 9, seed: 5 } })
    const m = d.bms.model
    d.bms.setFaults({ rate: 0.2, kinds: ["leftover"] })
    const end = Date.now() + 60_000
    let checked = 0
    let step = 0
    while (Date.now() < end) {
        // change the battery so that a leftover differs from the reply it precedes
        m.cellOffsetsMv = m.cellOffsetsMv.map((o, i) => o + ((step + i) % 3) - 1)
        m.ambientC = 20 + (step % 5)
        m.forcedBalancing = BigInt(step % 4) << BigInt(step % 14)
        step++
        const s = await freshStatus(d)
        assert.deepEqual(s.cells_mv, m.cellVoltagesMv(), `step ${step}`)
        assert.deepEqual(s.temps_c, m.temperaturesC(), `step ${step}`)
        checked++
    }
    assert.ok(d.bms.stats.faults > 30, `${d.bms.stats.faults} leftovers injected`)
    t.diagnostic(`${checked} snapshots checked, ${d.bms.stats.faults} leftovers in ${d.bms.stats.replies} replies`)
})

/** A capture whose 0x95/0x96/0x97 replies are each preceded by frame `n` of an older reply. */
function leftoverCapture(n) {
    const old = new VirtualBms({ cells: 16, temperatureSensors: 16 })
    const now = new VirtualBms({ cells: 16, temperatureSensors: 16 })
    old.close()
    now.close()
    now.model.cellOffsetsMv = old.model.cellOffsetsMv.map(o => o + 30)
    now.model.ambientC = old.model.ambientC + 4
    now.model.forcedBalancing = 0x8001n
    const lines = ["# every multi-frame reply is preceded by a frame of an older reply"]
    for (const id of [0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98]) {
        const frames = now.respond({ dataId: id, data: Buffer.alloc(8) })
        const before = old.respond({ dataId: id, data: Buffer.alloc(8) })
        const hex = id.toString(16)
        if (id >= 0x95 && id <= 0x97) lines.push(`${hex}: ${toHex(before[Math.min(n, before.length) - 1])}`)
        for (const f of frames) lines.push(`${hex}: ${toHex(f)}`)
    }
    return { text: lines.join("\n") + "\n", model: now.model }
}

test("capture replay: a leftover of every frame number before 0x95, 0x96 and 0x97 is never taken", async t => {
    for (const n of [1, 2, 3, 4, 5, 6]) {
        const dir = tempDir(t)
        const file = path.join(dir, `leftover-${n}.txt`)
        const { text, model } = leftoverCapture(n)
        fs.writeFileSync(file, text)
        const d = await apiDongle(t, { dir, bmsCapture: file })
        const s = await freshStatus(d)
        assert.deepEqual(s.cells_mv, model.cellVoltagesMv(), `leftover frame ${n}`)
        assert.deepEqual(s.temps_c, model.temperaturesC(), `leftover frame ${n}`)
        assert.deepEqual(s.balancing, [1, 16], `leftover frame ${n}`)
        await d.stop()
    }
})
