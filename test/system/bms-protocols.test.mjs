// The newer Modbus-style protocol end to end, for each scheme (D2 and 0x81+board): register images
// with the real values of the shared notes, auto-detection, sleep and recovery, every fault kind
// with no wrong value, commands confirmed by echo and read-back, a unit swapped for another
// generation, unanswered slow registers, board numbers, a forced protocol. Read where a user sees
// it: /api/status.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { startTestDongle, tempDir, sleep, pollCycles } from "./helpers.mjs"
import { VirtualBms } from "../../host/bms/virtual-bms.mjs"

async function apiDongle(t, options, settings) {
    const d = await startTestDongle(t, options)
    if (settings) {
        await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
        await d.writeFirmwareSetting("bms", settings)
        await d.settleFlash()
        await d.reset()
    }
    const port = await d.waitForPort(6789, 25000)
    d.status = async () => (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()).bms
    return d
}

const linkOk = (d, since = 0, timeoutMs = 20000) => d.waitForLine(/^BMS link: ok/, { since, timeoutMs })

/** What /api/status must show for the virtual battery now. */
function expected(m) {
    return {
        link: "ok", voltage_v: m.packVoltageDv() / 10, current_a: Math.round(m.effectiveCurrent() * 10) / 10,
        soc_pct: Math.round(m.soc * 10) / 10, cycles: m.cycles, cells_mv: m.cellVoltagesMv(), temps_c: m.temperaturesC(),
        charge_mos: m.chargeMos, discharge_mos: m.dischargeMos,
    }
}
const pick = (s, keys) => Object.fromEntries(keys.map(k => [k, s[k]]))

/** The ESS-DL-BMS cycle-1 registers of the shared notes (section 4, values in brackets). */
const P81_ESS = `# ESS-DL-BMS, cycle 1 (shared/daly-modbus-protocol.md section 4: SY-pdu-ess values in brackets)
protocol 81 board 1
@0000: 0CF4 0CF0 0CF2 0CF2 0CF2 0CF2 0CF2 0CF2 0CF0 0CF2 0CF2 0CF2 0CF2 0CF2 0CF2 0CF5
@0010: 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000
@0020: 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000
@0030: 003E 003E 003E 003E 0000 0000 0000 0000
# pack 53.0 V, current 29911, SOC 86.4 %, counter 182, 16 cells, 4 sensors, max cell 3317 (cell 16)
@0038: 0212 74D7 0360 00B6 0010 0004 0CF5 0010
# 0x40 (min cell) is not in the capture: the lowest cell of this image; index 9, difference 5
@0040: 0CF0 0009 0005 003E 0004 003E 0001 0000 0002 0000 0000 0A98 0007 0007 0000 0000
@0050: 0000 0000 0001 0001 0000 0000 0000 0CF2 01D7 0000 0040 0046 0000 0000 FFFF 0000
@0060: 7530 1A06 0214 0221 0000 0000 0000 0000 0080 0000 74BE 0011 035F 0000 0000 0000
@0070: 0080 0000 0000 0000 FFFF FFFF FFFF FFFF FFFF FFFF FFFF FFFF 00FF 0000 0002
@00CF: FFFF
# version block: "41_260321_0323ESS-DL-BMS", NUL-padded to byte 28, then "ESS41_0323"
@0178: 3431 5F32 3630 3332 315F 3033 3233 4553 532D 444C 2D42 4D53 0000 0000 4553 5334 315F 3033 3233 0000 0000
`

/** D2, blue series: current raw 29969 (−3.1 A, SY-test REG_2), 0x40 = 30000, 0x42 = 55 (15 °C), board 0. */
const D2_BLUE = `# D2 live block around the blue-series values the shared notes assert (section 3.1, 6.2, 7)
protocol d2
@0000: 0D02 0D03 0D01 0D04 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000
@0010: 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000
@0020: 0037 0038 0000 0000 0000 0000 0000 0000
# 13.3 V, 29969 (-3.1 A), 61.5 %, max 3332, min 3329, max 16 C, min 15 C, discharging, 55.0 Ah, 4 cells, 2 sensors, 21 cycles
@0028: 0085 7511 0267 0D04 0D01 0038 0037 0002 0226 0004 0002 0015 0000 0001 0001 0D02 0003 0029
@003A: 0000 0000 0000 0000 0000 0000 7530 0000 0037 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000
@0080: 0226
@00A9: 4441 4C59 2D42 4C55 452D 3132 0000 0000 4857 2D31 3030 0000 0000 0000 0000 0000
@00CF: 0001
`

for (const [name, text, want] of [
    ["0x81 scheme: the ESS-DL-BMS registers of the shared notes", P81_ESS, {
        protocol: "81", address: 0x81, voltage_v: 53, current_a: -8.9, soc_pct: 86.4, remaining_ah: 271.2, cycles: 7, state: "discharging",
        temps_c: [22, 22, 22, 22], temp_max_c: 22, temp_min_c: 22, mos_temp_c: 24, board_temp_c: 30, power_w: -471, energy_wh: 0,
        charge_mos: true, discharge_mos: true, precharge_mos: false, heater_mos: false, fan_mos: false, balance_current_a: null,
        balancer_active: true, balancer_on: true, alarms: ["parallel_comm_error"], cell_max_mv: 3317, cell_max_number: 16,
        firmware_version: "41_260321_0323ESS-DL-BMS", hardware_version: "ESS41_0323", soh_pct: null, rated_ah: null,
    }],
    ["D2 scheme: blue-series current and MOS temperature", D2_BLUE, {
        protocol: "d2", address: 0xd2, voltage_v: 13.3, current_a: -3.1, soc_pct: 61.5, remaining_ah: 55, cycles: 21, state: "discharging",
        cells_mv: [3330, 3331, 3329, 3332], temps_c: [15, 16], mos_temp_c: 15, board_temp_c: null, balance_current_a: 0, power_w: -41,
        energy_wh: null, precharge_mos: null, charger: null, alarms: [], balancer_on: true, rated_ah: 55,
        firmware_version: "DALY-BLUE-12", hardware_version: "HW-100",
    }],
]) {
    test(`capture replay, ${name}: /api/status shows what the sources assert`, async t => {
        const dir = tempDir(t)
        const file = path.join(dir, "image.txt")
        fs.writeFileSync(file, text)
        const d = await apiDongle(t, { dir, bmsCapture: file })
        await linkOk(d)
        let s = await d.status()
        for (let i = 0; i < 30 && !(s.firmware_version && s.balancer_on !== null && (want.rated_ah === null || s.rated_ah)); i++) {
            await sleep(200)
            s = await d.status()
        }
        assert.deepEqual(pick(s, Object.keys(want)), want)
    })
}

for (const [protocol, board] of [["d2", 1], ["81", 1], ["81", 3]]) {
    const label = protocol === "d2" ? "D2" : `0x81 board ${board}`
    test(`${label}: detected, read, commands confirmed by echo and read-back`, async t => {
        const d = await apiDongle(t, { bms: { protocol, board, cells: 16, temperatureSensors: 3, current: -6, soc: 70 } }, board === 1 ? null : { board })
        const address = protocol === "d2" ? 0xd2 : 0x80 + board
        const line = await linkOk(d, 0)
        assert.match(line, new RegExp(`^BMS link: ok \\(protocol ${protocol}, address 0x${address.toString(16)}, 16 cells, 3 temperature sensors\\)$`))
        await d.waitForLine(`BMS answers on address 0x${address.toString(16)}; remembered (protocol ${protocol})`)
        // the slow reads (versions, balancer switch): one per cycle at start; one that failed (one
        // attempt each) comes again 20 cycles later
        let s = await d.status()
        for (let i = 0; i < 60 && !(s.firmware_version && s.balancer_on !== null); i++) {
            await sleep(200)
            s = await d.status()
        }
        const m = d.bms.model
        const { current_a, soc_pct, ...steady } = expected(m)
        assert.deepEqual(pick(s, Object.keys(steady)), steady)
        assert.ok(Math.abs(s.current_a - current_a) < 0.05 && Math.abs(s.soc_pct - soc_pct) <= 0.1)
        assert.equal(s.protocol, protocol)
        assert.equal(s.address, address)
        assert.equal(s.firmware_version, "VBMS-SW-1.2.0")
        assert.equal(s.hardware_version, "VBMS-HW-A1")
        assert.equal(s.mos_temp_c, m.mosTempC)
        assert.equal(s.balancer_on, true)

        // commands: function 06 to the scheme's registers, echo, then the register read back
        const writes = () => d.bms.requestLog.filter(r => r.fn === 6).map(r => [r.register, r.value])
        const chg = protocol === "d2" ? 0xa5 : 0x121
        const dsg = protocol === "d2" ? 0xa6 : 0x122
        const socReg = protocol === "d2" ? 0xa7 : 0x116
        assert.equal(await d.bmsService.setChargeMos(false), true)
        assert.equal(m.chargeMos, false)
        assert.equal(await d.bmsService.setDischargeMos(false), true)
        assert.equal(m.dischargeMos, false)
        assert.equal(await d.bmsService.setSoc(42.5), true)
        assert.equal(Math.round(m.soc * 10), 425)
        assert.equal(await d.bmsService.setBalancer(false), true)
        assert.equal(m.balancerOn, false)
        assert.deepEqual(writes(), [[chg, 0], [dsg, 0], [socReg, 425], [0xcf, 0]])
        const log = d.bms.requestLog
        const i = log.findIndex(r => r.fn === 6 && r.register === chg)
        assert.deepEqual([log[i + 1].fn, log[i + 1].register, log[i + 1].value], [3, chg, 1], "the state is read back after the echo")
        // the next snapshots show it; the balancer switch with the slow data read again after a command
        for (let i = 0; i < 60 && (s = await d.status()).balancer_on !== false; i++) await sleep(200)
        assert.deepEqual([s.charge_mos, s.discharge_mos, s.soc_pct, s.balancer_on], [false, false, 42.5, false])
        // a write the unit does not echo is not confirmed
        d.bms.missing = [[chg, chg]]
        assert.equal(await d.bmsService.setChargeMos(true), false)
        assert.equal(m.chargeMos, false)
        assert.equal(await d.bmsService.resetBms(), protocol === "d2", "D2 restarts (0xF0, echo); no restart is known for 0x81")
    })
}

for (const protocol of ["d2", "81"]) {
    test(`${protocol}: sleep gives bms_data_error with no values as current, waking recovers`, async t => {
        const d = await apiDongle(t, { bms: { protocol, cells: 8 } })
        await linkOk(d)
        const since = d.mark()
        d.bms.sleep()
        await d.waitForLine("BMS link: bms_data_error (the BMS does not answer: asleep, unplugged or miswired)", { since, timeoutMs: 6000 })
        const s = await d.status()
        assert.equal(s.link, "bms_data_error")
        assert.equal(s.voltage_v, null)
        assert.equal(s.protocol, null)
        const woke = d.mark()
        d.bms.wake()
        assert.match(await linkOk(d, woke, 8000), new RegExp(`protocol ${protocol}`))
    })

    test(`${protocol}: every fault kind at a 10 % rate for 45 s never shows a wrong value`, async t => {
        const d = await apiDongle(t, { bms: { protocol, cells: 16, temperatureSensors: 4, soc: 55.5, seed: 9 } })
        await linkOk(d)
        const want = expected(d.bms.model)
        d.bms.setFaults({ rate: 0.1 })
        const end = Date.now() + 45_000
        let ok = 0
        let reads = 0
        while (Date.now() < end) {
            const s = await d.status()
            reads++
            if (s.link === "ok") {
                ok++
                assert.deepEqual(pick(s, Object.keys(want)), want, `read ${reads}`)
            }
            await sleep(150)
        }
        assert.ok(d.bms.stats.faults > 20, `${d.bms.stats.faults} faults`)
        assert.ok(ok >= reads * 0.9, `${ok} of ${reads} reads with the link ok`)
        t.diagnostic(`${d.bms.stats.faults} faults in ${d.bms.stats.replies} replies, ${reads} reads`)
    })
}

test("a unit swapped for another generation is found again, both ways", async t => {
    const d = await apiDongle(t, { bms: { cells: 8, soc: 40 } })
    await linkOk(d)
    assert.equal((await d.status()).protocol, "a5")
    let since = d.mark()
    d.swapBms(new VirtualBms({ protocol: "d2", cells: 12, soc: 80 }))
    await d.waitForLine("BMS answers on address 0xd2; remembered (protocol d2)", { since, timeoutMs: 15000 })
    await linkOk(d, since, 5000)
    let s = await d.status()
    assert.deepEqual([s.protocol, s.cells_mv.length, s.soc_pct], ["d2", 12, 80])
    since = d.mark()
    d.swapBms(new VirtualBms({ cells: 5, soc: 33, addresses: [0x80] }))
    await d.waitForLine("BMS answers on address 0x80; remembered (protocol a5)", { since, timeoutMs: 15000 })
    await linkOk(d, since, 5000)
    s = await d.status()
    assert.deepEqual([s.protocol, s.address, s.cells_mv.length, s.soc_pct], ["a5", 0x80, 5, 33])
    // remembered: after a reset the 0xA5 unit at 0x80 is asked first
    await d.settleFlash()
    await d.reset()
    // by time, not by index: the BMS keeps its last 200 requests only
    const booted = Date.now() // the old VM is gone, the new one not yet running
    await linkOk(d, d.mark())
    assert.equal(d.bms.requestLog.find(r => r.at >= booted)?.address, 0x80)
})

test("a unit that leaves versions and settings unanswered still gives a full snapshot", async t => {
    const d = await apiDongle(t, { bms: { protocol: "d2", cells: 6, missing: [[0x80, 0xff]] } })
    await linkOk(d)
    await sleep(1500)
    const s = await d.status()
    assert.deepEqual(pick(s, ["link", "cells_mv", "voltage_v"]), pick(expected(d.bms.model), ["link", "cells_mv", "voltage_v"]))
    assert.deepEqual([s.firmware_version, s.hardware_version, s.balancer_on, s.rated_ah], [null, null, null, null])
})

test("a forced protocol: only it is tried", async t => {
    const d = await apiDongle(t, { bms: { cells: 4 } }, { force: 2 })
    await d.waitForLine(/^BMS link: bms_data_error/, { since: 0, timeoutMs: 20000 })
    await sleep(3000)
    assert.equal(d.bms.requestLog.filter(r => r.at > Date.now() - 3000).length, 0, "no 0xA5 request while D2 is forced")
    assert.equal((await d.status()).link, "bms_data_error")
})

test("0x81 unit: the Modbus TCP map is filled from it, extras included", async t => {
    const { default: ModbusRTU } = await import("modbus-serial")
    const d = await startTestDongle(t, { bms: { protocol: "81", cells: 16, temperatureSensors: 3, current: -12.3, soc: 77.7 } })
    await d.waitForLine(/^Modbus TCP: port 502/, { timeoutMs: 25000 })
    await linkOk(d)
    const c = new ModbusRTU()
    await c.connectTCP("127.0.0.1", { port: await d.waitForPort(502) })
    c.setID(1)
    t.after(() => c.close(() => {}))
    const m = d.bms.model
    m.heaterOn = true
    await pollCycles(d)
    const r = (await c.readHoldingRegisters(0, 0x5d)).data
    assert.deepEqual(r.slice(0, 16), m.cellVoltagesMv())
    assert.equal(r[0x38], m.packVoltageDv())
    assert.equal(r[0x39], 30000 - 123)
    assert.equal(r[0x3c], 16)
    assert.deepEqual([r[0x52], r[0x53], r[0x54], r[0x55], r[0x56]], [1, 1, 0, 1, 0])
    assert.equal(r[0x59], m.energyWh())
    assert.deepEqual([r[0x5a], r[0x5b]], [m.mosTempC + 40, m.boardTempC + 40])
    assert.equal(r[0x3b], 0, "SOH: no unit is known to report it")
})
