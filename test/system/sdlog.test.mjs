// SD card logging on the host runtime: the card is a folder; the clock is the host's, moved by tests.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { startTestDongle, sleep } from "./helpers.mjs"

/** A dongle logging every `period` s (cells too), with a battery serial and location. */
async function loggingDongle(t, options = {}, period = 1) {
    const d = await startTestDongle(t, { bms: { cells: 4, temperatureSensors: 2, soc: 73.4, current: -2.5, capacityAh: 5000 }, ...options })
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("sdlog", { on: true, period, cells: true })
    await d.writeFirmwareSetting("user", { serial: "PACK-42", location: "Boat, aft" })
    await d.settleFlash()
    // logging is on from the first boot: the file that boot began (battery line without serial) goes
    fs.rmSync(path.join(d.dir, "sd", "LOG"), { recursive: true, force: true })
    d.bootMark = d.mark()
    await d.reset()
    return d
}

const today = d => d.clock.now().toISOString().slice(0, 10).replace(/-/g, "") // host clock, local = UTC here
const lines = file => fs.readFileSync(file, "utf8").split("\r\n").filter(Boolean)

test("rows at the period with the battery's values; the battery and its place in every file", async t => {
    const d = await loggingDongle(t)
    await d.waitForLine(/^SD log: writing \/LOG\/\d{8}\.CSV and \/CELL\/\d{8}\.CSV$/, { since: d.bootMark, timeoutMs: 25000 })
    // six rows, however long a loaded machine takes to write them; their own times show the period
    const file = path.join(d.dir, "sd", "LOG", `${today(d)}.CSV`)
    let main = lines(file)
    for (const deadline = Date.now() + 20000; main.length < 8 && Date.now() < deadline; main = lines(file)) await sleep(200)
    assert.match(main[0], /^# Smart BMS dongle main log,battery serial,PACK-42,battery address,"Boat, aft",device,[0-9a-f]{16}$/)
    assert.equal(main[1], "time,voltage_V,current_A,soc_pct,remaining_Ah,cell_min_mV,cell_min_no,cell_max_mV,cell_max_no,temp1_C,temp2_C,charge_mos,discharge_mos,link,alarms,fault_code")
    const rows = main.slice(2)
    assert.ok(rows.length >= 6, `${rows.length} rows`)
    const span = (Date.parse(rows.at(-1).split(",")[0]) - Date.parse(rows[0].split(",")[0])) / 1000
    assert.ok(Math.abs(span - (rows.length - 1)) <= 1, `${rows.length} rows over ${span} s: one a second`)
    const m = d.bms.model
    const cells = m.cellVoltagesMv()
    const last = rows.at(-1).split(",")
    assert.match(last[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/)
    assert.deepEqual(last.slice(1, 4), [(m.packVoltageDv() / 10).toFixed(1), "-2.5", (Math.round(m.soc * 10) / 10).toFixed(1)])
    assert.deepEqual(last.slice(5, 11).map(Number), [Math.min(...cells), cells.indexOf(Math.min(...cells)) + 1, Math.max(...cells), cells.indexOf(Math.max(...cells)) + 1, ...m.temperaturesC()])
    assert.deepEqual(last.slice(11), ["1", "1", "ok", "", "0"])
    const cellFile = lines(path.join(d.dir, "sd", "CELL", `${today(d)}.CSV`))
    assert.equal(cellFile[1], "time,cell1_mV,cell2_mV,cell3_mV,cell4_mV,balancing_cells")
    assert.deepEqual(cellFile.at(-1).split(",").slice(1, 5).map(Number), cells)
})

test("while the BMS does not answer the rows say so instead of repeating numbers", async t => {
    const d = await loggingDongle(t)
    await d.waitForLine(/^SD log: writing/, { since: d.bootMark, timeoutMs: 25000 })
    d.bms.sleep()
    await d.waitForLine(/^BMS link: bms_data_error/, { since: d.bootMark, timeoutMs: 10000 })
    // the next rows (one a second, the cell row after the main row) say so
    const cellLink = () => lines(path.join(d.dir, "sd", "CELL", `${today(d)}.CSV`)).at(-1).split(",").at(-1)
    for (const deadline = Date.now() + 10000; cellLink() !== "bms_data_error" && Date.now() < deadline; ) await sleep(200)
    const last = lines(path.join(d.dir, "sd", "LOG", `${today(d)}.CSV`)).at(-1).split(",")
    assert.equal(last.length, 16)
    assert.deepEqual(last.slice(1, 11), new Array(10).fill(""))
    assert.equal(last[13], "bms_data_error")
    assert.equal(lines(path.join(d.dir, "sd", "CELL", `${today(d)}.CSV`)).at(-1).split(",").at(-1), "bms_data_error")
})

test("the day rolls over into a new file", async t => {
    const d = await loggingDongle(t, { clockAt: new Date(Date.UTC(2026, 10, 21, 23, 59, 40)) })
    await d.waitForLine(/^SD log: writing \/LOG\/20261121\.CSV/, { since: d.bootMark, timeoutMs: 25000 })
    const deadline = Date.now() + 30000
    const next = path.join(d.dir, "sd", "LOG", "20261122.CSV")
    // the file appears with its first line; its header and first row are separate appends
    while (!(fs.existsSync(next) && lines(next).length >= 3) && Date.now() < deadline) await sleep(200)
    const rows = lines(next)
    assert.match(rows[0], /^# Smart BMS dongle main log/)
    assert.match(rows[2], /^2026-11-22T00:00:0\d,/)
    assert.match(lines(path.join(d.dir, "sd", "LOG", "20261121.CSV")).at(-1), /^2026-11-21T23:59:5\d,/)
})

test("an empty slot since boot is a state, not an error; logging starts when a card is inserted", async t => {
    const d = await loggingDongle(t, { noSd: true })
    await d.waitForLine("SD log: no card; logging starts when one is inserted", { since: d.bootMark, timeoutMs: 25000 })
    const port = await d.waitForPort(6789)
    await sleep(2500)
    const st = await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()
    assert.equal(st.sd.state, "no_card")
    assert.equal(st.bms.link, "ok")
    const journal = await (await fetch(`http://127.0.0.1:${port}/api/journal`)).json()
    assert.ok(!journal.entries.some(e => e.flags.includes("sd_card_error")), "no journal entry for an empty slot")
    assert.ok(!d.linesSince(d.bootMark).some(l => l.startsWith("SD log: card error")), "no card error on the console")
    d.sdCard.insert()
    await d.waitForLine(/^SD log: writing/, { since: d.bootMark, timeoutMs: 10000 })
    await sleep(1500)
    assert.ok(lines(path.join(d.dir, "sd", "LOG", `${today(d)}.CSV`)).length >= 3)
})

test("a card in use that disappears: reported and journaled, the dongle keeps running, logging resumes", async t => {
    const d = await loggingDongle(t)
    await d.waitForLine(/^SD log: writing/, { since: d.bootMark, timeoutMs: 25000 })
    d.sdCard.eject()
    await d.waitForLine("SD log: card error (no_card); the dongle keeps running, logging resumes when the card is back", { since: d.bootMark, timeoutMs: 10000 })
    await d.waitForLine(/^Journal \d+: sd_card_error since/, { since: d.bootMark, timeoutMs: 15000 })
    assert.equal((await d.bmsService.read()).link, "ok")
    const resumed = d.mark()
    d.sdCard.insert()
    await d.waitForLine(/^SD log: writing/, { since: resumed, timeoutMs: 10000 })
    await d.waitForLine(/^Journal \d+: sd_card_error cleared/, { since: resumed, timeoutMs: 15000 })
})

test("logging is on from the first boot: the main log every 60 s without any setting", async t => {
    const d = await startTestDongle(t, { bms: { cells: 4, temperatureSensors: 2 } })
    await d.waitForLine("SD log: every 60 s", { timeoutMs: 25000 })
    await d.waitForLine(/^SD log: writing \/LOG\/\d{8}\.CSV$/, { timeoutMs: 25000 })
    const main = lines(path.join(d.dir, "sd", "LOG", `${today(d)}.CSV`))
    assert.equal(main.length, 3, "the battery line, the header and the first row")
    assert.ok(!fs.existsSync(path.join(d.dir, "sd", "CELL")), "no cell log unless asked")
})

test("a full card: reported once, no half rows, the dongle keeps running", async t => {
    const d = await loggingDongle(t, { sdCapacityBytes: 1200 })
    await d.waitForLine("SD log: card error (full); the dongle keeps running, logging resumes when the card is back", { since: d.bootMark, timeoutMs: 30000 })
    for (const f of ["LOG", "CELL"]) {
        const file = path.join(d.dir, "sd", f, `${today(d)}.CSV`)
        if (!fs.existsSync(file)) continue
        const text = fs.readFileSync(file, "utf8")
        assert.ok(text.endsWith("\r\n"), `${f}: whole rows only`)
    }
    assert.equal((await d.bmsService.read()).link, "ok")
})

test("a reset mid-row loses no written row: the cut row is closed and logging goes on", async t => {
    const d = await loggingDongle(t)
    await d.waitForLine(/^SD log: writing/, { since: d.bootMark, timeoutMs: 25000 })
    await sleep(3000)
    const file = path.join(d.dir, "sd", "LOG", `${today(d)}.CSV`)
    const before = lines(file)
    fs.appendFileSync(file, "2026-11-21T12:00:00,13.") // what a reset in the middle of an append leaves
    const since = d.mark()
    await d.reset()
    await d.waitForLine(/^SD log: writing/, { since, timeoutMs: 25000 })
    await sleep(2500)
    const after = lines(file)
    assert.deepEqual(after.slice(0, before.length), before, "every row written before is intact")
    assert.equal(after[before.length], "2026-11-21T12:00:00,13.", "the cut row stands alone")
    for (const row of after.slice(before.length + 1)) assert.equal(row.split(",").length, 16, row)
})

test("before the clock is known there are no rows (no 1970 dates)", async t => {
    const d = await loggingDongle(t, { clockUnset: true })
    await d.waitForLine("SD log: waiting for the clock (no rows without a date)", { since: d.bootMark, timeoutMs: 25000 })
    await sleep(2000)
    assert.ok(!fs.existsSync(path.join(d.dir, "sd", "LOG")), "no log files yet")
    d.clock.setTime(new Date(Date.UTC(2026, 10, 21, 12, 0, 0)))
    await d.waitForLine(/^SD log: writing \/LOG\/20261121\.CSV/, { since: d.bootMark, timeoutMs: 10000 })
})
