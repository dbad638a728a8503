// The firmware sends a Daly 0x90 request over the Serial role and decodes the reply: from the
// virtual BMS, from a capture replay, and "no answer" while the BMS sleeps.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { startTestDongle, tempDir } from "./helpers.mjs"

const fixed1 = x => (Math.round(x * 10) / 10).toFixed(1)

test("the firmware decodes the virtual BMS's 0x90 reply", async t => {
    const d = await startTestDongle(t, { bms: { cells: 14, soc: 51.2, current: -12.5, capacityAh: 280 } })
    const line = await d.waitForLine(/^BMS: /, { timeoutMs: 20000 })
    const m = d.bms.model
    const expected = `BMS: ${fixed1(m.packVoltageDv() / 10)} V ${fixed1(m.effectiveCurrent())} A ${fixed1(Math.round(m.soc * 10) / 10)} %`
    assert.equal(line, expected)
    assert.match(line, / -12\.5 A /)
    const req = d.bms.requestLog.find(r => r.dataId === 0x90)
    assert.equal(req.address, 0x40)
})

test("a capture replay gives exactly the captured values", async t => {
    const dir = tempDir(t)
    const capture = path.join(dir, "r24ts.txt")
    fs.writeFileSync(capture, "# 14-cell unit, live r24ts capture\n90: A5 01 90 08 02 12 00 00 75 30 02 00 F9\n95: A5 01 95 08 01 0E CE 0E D2 0E D1 00 DF\n94: silent\n")
    const d = await startTestDongle(t, { dir, bmsCapture: capture })
    assert.equal(await d.waitForLine(/^BMS: /, { timeoutMs: 20000 }), "BMS: 53.0 V 0.0 A 51.2 %")
})

test("a sleeping BMS is reported as not answering, and answers again after waking", async t => {
    const d = await startTestDongle(t, { bms: { cells: 4 } })
    await d.waitForLine(/^BMS: \d/, { timeoutMs: 20000 })
    d.bms.sleep()
    const since = d.mark()
    await d.waitForLine("BMS: no answer", { since, timeoutMs: 15000 })
    d.bms.wake()
    await d.waitForLine(/^BMS: \d+\.\d V/, { since: d.mark(), timeoutMs: 15000 })
})
