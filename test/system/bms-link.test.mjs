// The BMS link end to end: the firmware polls the virtual BMS (or a capture) over the Serial role;
// the test reads the firmware's snapshot through its Daly BMS Jacdac service and compares it with
// the battery model.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { startTestDongle, tempDir, sleep, pollCycles } from "./helpers.mjs"

/** The snapshot the firmware must show for the virtual battery right now. */
function expectedFrom(model) {
    return {
        link: "ok",
        voltage_v: model.packVoltageDv() / 10,
        current_a: Math.round(model.effectiveCurrent() * 10) / 10,
        soc_pct: Math.round(model.soc * 10) / 10,
        remaining_ah: Math.round(model.remainingAh * 1000) / 1000,
        cycles: model.cycles,
        cells_mv: model.cellVoltagesMv(),
        temps_c: model.temperaturesC(),
        charge_mos: model.chargeMos,
        discharge_mos: model.dischargeMos,
    }
}

function pick(snapshot, keys) {
    return Object.fromEntries(keys.map(k => [k, snapshot[k]]))
}

async function linkOk(d) {
    await d.waitForLine(/^BMS link: ok/, { timeoutMs: 20000 })
}

for (const [cells, sensors] of [[4, 1], [14, 2], [16, 3], [48, 16]]) {
    test(`${cells} cells and ${sensors} sensors: the firmware's snapshot is the battery's`, async t => {
        const d = await startTestDongle(t, { bms: { cells, temperatureSensors: sensors, current: -7.5, capacityAh: 5000, soc: 64.2 } })
        await linkOk(d)
        // the slow data (0x50, 0x57) are read one per cycle at start
        let s = await d.bmsService.read()
        for (let i = 0; i < 50 && !s.battery_code; i++) {
            await sleep(200)
            s = await d.bmsService.read()
        }
        const { remaining_ah: remaining, ...want } = expectedFrom(d.bms.model)
        assert.deepEqual(pick(s, Object.keys(want)), want)
        // the battery discharges while we compare: 7.5 A is about 2 mAh a second
        assert.ok(Math.abs(s.remaining_ah - remaining) < 0.01, `remaining ${s.remaining_ah} Ah, battery ${remaining} Ah`)
        assert.equal(s.cells_mv.length, cells)
        assert.equal(s.temps_c.length, sensors)
        assert.equal(s.state, "discharging")
        assert.equal(s.rated_ah, 5000)
        assert.equal(s.battery_code, "VIRTUAL-DALY-0001")
        assert.ok(s.age_ms < 2000, `age ${s.age_ms} ms`)
    })
}

test("the capture replay of the 14-cell poll gives exactly the stated values", async t => {
    const dir = tempDir(t)
    const capture = path.join(dir, "r24ts.txt")
    fs.writeFileSync(capture, `# complete 14-cell poll, "live r24ts capture" (shared/daly-protocol.md)
90: A5 01 90 08 02 12 00 00 75 30 02 00 F9
91: A5 01 91 08 0E D2 02 0E CE 01 00 00 FE
92: A5 01 92 08 38 01 38 01 00 00 00 00 B2
93: A5 01 93 08 00 01 01 ED 00 00 A0 00 D0
94: A5 01 94 08 0E 02 00 00 00 00 00 3A 8C
95: A5 01 95 08 01 0E CE 0E D2 0E D1 00 DF
95: A5 01 95 08 02 0E CF 0E D1 0E D1 00 E0
95: A5 01 95 08 03 0E D1 0E D1 0E D2 00 E4
95: A5 01 95 08 04 0E D2 0E D2 0E CF 00 E4
95: A5 01 95 08 05 0E D1 0E CF 00 00 00 04
96: A5 01 96 08 01 38 38 00 00 FF FF FF B2
97: A5 01 97 08 00 00 00 00 00 00 00 00 45
98: A5 01 98 08 00 00 00 00 00 00 00 00 46
`)
    const d = await startTestDongle(t, { dir, bmsCapture: capture })
    await linkOk(d)
    const s = await d.bmsService.read()
    assert.deepEqual(
        pick(s, ["link", "voltage_v", "current_a", "soc_pct", "remaining_ah", "cycles", "cells_mv", "temps_c", "charge_mos", "discharge_mos", "state", "balancing", "alarm_bits", "fault_code"]),
        {
            link: "ok", voltage_v: 53, current_a: 0, soc_pct: 51.2, remaining_ah: 40.96, cycles: 0,
            cells_mv: [3790, 3794, 3793, 3791, 3793, 3793, 3793, 3793, 3794, 3794, 3794, 3791, 3793, 3791],
            temps_c: [16, 16], charge_mos: true, discharge_mos: true, state: "idle", balancing: [],
            alarm_bits: [0, 0, 0, 0, 0, 0, 0], fault_code: 0,
        },
    )
})

test("a sleeping BMS: bms_data_error within 3 s, no stale values as current, recovery after waking", async t => {
    const d = await startTestDongle(t, { bms: { cells: 16 } })
    await linkOk(d)
    const since = d.mark()
    const asleepAt = Date.now()
    d.bms.sleep()
    await d.waitForLine("BMS link: bms_data_error (the BMS does not answer: asleep, unplugged or miswired)", { since, timeoutMs: 5000 })
    const detectMs = Date.now() - asleepAt
    assert.ok(detectMs <= 3000, `detected after ${detectMs} ms`)
    const s = await d.bmsService.read()
    assert.equal(s.link, "bms_data_error")
    assert.ok(s.age_ms >= 500, "the last values are marked by their age")
    // the status line does not present old numbers as current
    const status = await d.waitForLine(/^BMS: link bms_data_error/, { since, timeoutMs: 12000 })
    assert.match(status, /^BMS: link bms_data_error, last data \d+ s ago$/)
    // polling backs off to a gentle probe
    const before = d.bms.stats.requests
    await sleep(4000)
    const probes = d.bms.stats.requests - before
    assert.ok(probes <= 4, `${probes} requests in 4 s while asleep`)
    const woke = d.mark()
    d.bms.wake()
    await d.waitForLine(/^BMS link: ok/, { since: woke, timeoutMs: 5000 })
    assert.equal((await d.bmsService.read()).link, "ok")
})

test("faults injected at a 5 % rate for two minutes never produce a wrong value", async t => {
    const d = await startTestDongle(t, { bms: { cells: 16, temperatureSensors: 3, soc: 71.3, seed: 42 } })
    await linkOk(d)
    const want = expectedFrom(d.bms.model) // no current: the battery does not change
    d.bms.setFaults({ rate: 0.05 })
    const end = Date.now() + 120_000
    let reads = 0
    let okReads = 0
    while (Date.now() < end) {
        const s = await d.bmsService.read()
        reads++
        if (s.link === "ok") {
            okReads++
            assert.deepEqual(pick(s, Object.keys(want)), want, `read ${reads}`)
        }
        await sleep(200)
    }
    const stats = (await d.bmsService.read()).poll
    assert.ok(d.bms.stats.faults > 50, `${d.bms.stats.faults} faults injected`)
    assert.ok(stats.failedRequests > 0, "faults cost retries")
    assert.ok(okReads >= reads * 0.95, `${okReads} of ${reads} reads with the link ok`)
    t.diagnostic(`${d.bms.stats.faults} faults in ${d.bms.stats.replies} replies; ${stats.completedCycles} cycles, ${stats.failedRequests} failed requests; ${reads} reads`)
})

test("MOS and SOC commands change the BMS and the next snapshot shows it", async t => {
    const d = await startTestDongle(t, { bms: { cells: 8, soc: 50 } })
    await linkOk(d)
    assert.equal(await d.bmsService.setChargeMos(false), true)
    assert.equal(d.bms.model.chargeMos, false)
    assert.equal(await d.bmsService.setDischargeMos(false), true)
    assert.equal(d.bms.model.dischargeMos, false)
    assert.equal(await d.bmsService.setSoc(42.5), true)
    assert.equal(Math.round(d.bms.model.soc * 10), 425)
    const clockSkew = Math.abs(d.bms.model.clock().getTime() - Date.now())
    assert.ok(clockSkew < 3000, `the BMS clock was set from the dongle's clock (${clockSkew} ms off)`)
    await pollCycles(d)
    let s = await d.bmsService.read()
    assert.equal(s.charge_mos, false)
    assert.equal(s.discharge_mos, false)
    assert.equal(s.soc_pct, 42.5)
    assert.equal(await d.bmsService.setChargeMos(true), true)
    assert.equal(await d.bmsService.resetBms(), true)
    await pollCycles(d)
    s = await d.bmsService.read()
    assert.equal(s.charge_mos && s.discharge_mos, true)
    assert.equal(await d.bmsService.setSoc(100.1), false, "an impossible SOC is refused")
})

test("a BMS answering only 0x80 is found, remembered, and asked first after a reset", async t => {
    const d = await startTestDongle(t, { bms: { cells: 4, addresses: [0x80] } })
    await linkOk(d)
    await d.waitForLine("BMS answers on address 0x80; remembered")
    assert.equal((await d.bmsService.read()).poll.address, 0x80)
    await d.settleFlash()
    await d.reset()
    // by time, not by index: the BMS keeps its last 200 requests only
    const booted = Date.now() // the old VM is gone, the new one not yet running
    await d.waitForLine(/^BMS link: ok/, { since: d.mark(), timeoutMs: 20000 })
    assert.equal(d.bms.requestLog.find(r => r.at >= booted)?.address, 0x80)
})

test("a BMS with the other current sign convention: the 0x93 state sets it right", async t => {
    const d = await startTestDongle(t, { bms: { cells: 4, current: 20, invertCurrentSign: true, capacityAh: 5000 } })
    await linkOk(d)
    const s = await d.bmsService.read()
    assert.equal(s.state, "charging")
    assert.equal(s.current_a, 20)
})
