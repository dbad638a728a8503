// The errors journal: episodes of the BMS link, alarms and the SD card, with their times, kept across
// a reset, in the API.
import { test } from "node:test"
import assert from "node:assert/strict"
import { startTestDongle, sleep } from "./helpers.mjs"

async function journal(d) {
    const port = await d.waitForPort(6789)
    return (await (await fetch(`http://127.0.0.1:${port}/api/journal`)).json())
}

test("BMS link lost and an alarm: entries with occurrence and disappearance times, kept across a reset", async t => {
    const d = await startTestDongle(t, { bms: { cells: 4 } })
    await d.waitForLine(/^Web: port 6789/, { timeoutMs: 25000 })
    d.bms.sleep()
    await d.waitForLine(/^Journal 1: bms_link_lost since \d{4}-\d\d-\d\dT/, { timeoutMs: 15000 })
    d.bms.wake()
    await d.waitForLine(/^Journal 1: bms_link_lost cleared \d{4}-/, { timeoutMs: 15000 })
    d.bms.model.forcedAlarms[0] = 0x01
    await d.waitForLine(/^Journal 2: cell_volt_high_l1 since/, { timeoutMs: 10000 })
    let j = await journal(d)
    assert.equal(j.last, 2)
    assert.deepEqual(j.entries.map(e => [e.position, e.flags, e.cleared === ""]), [[1, ["bms_link_lost"], false], [2, ["cell_volt_high_l1"], true]])
    await d.settleFlash()
    const since = d.mark()
    await d.reset()
    await d.waitForLine("Journal: 2 entries, last record 2", { since, timeoutMs: 25000 })
    await d.waitForLine(/^Web: port 6789/, { since, timeoutMs: 25000 })
    j = await journal(d)
    assert.equal(j.last, 2)
    assert.equal(j.entries.length, 2)
    assert.match(j.entries[0].occurred, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/)
    d.bms.model.forcedAlarms[0] = 0
    await d.waitForLine(/^Journal 2: cell_volt_high_l1 cleared/, { since, timeoutMs: 10000 })
})

test("an SD card error is journalled (a card in use that disappears; an empty slot from boot is not an error)", async t => {
    const d = await startTestDongle(t)
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("sdlog", { on: true, period: 1 })
    await d.settleFlash()
    const since = d.mark()
    await d.reset()
    await d.waitForLine(/^SD log: writing/, { since, timeoutMs: 25000 })
    d.sdCard.eject()
    await d.waitForLine(/^Journal 1: sd_card_error since/, { since, timeoutMs: 25000 })
    d.sdCard.insert()
    await d.waitForLine(/^Journal 1: sd_card_error cleared/, { since, timeoutMs: 10000 })
    const j = await journal(d)
    assert.equal(j.entries[0].flags[0], "sd_card_error")
})
