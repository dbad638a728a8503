// A real browser (Debian's Chromium, driven by playwright-core) on the data around the battery: the
// 24 h charts drawn by the page with a sleeping BMS as a gap, the SD card's logs listed and
// downloaded, a chosen day charted from its file, settings backup (with and without passwords) and
// restore. Screenshots in test/artifacts/.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { PROJECT_DIR } from "../../host/dongle.mjs"
import { startTestDongle, sleep } from "./helpers.mjs"

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(p => fs.existsSync(p))
const ARTIFACTS = path.join(PROJECT_DIR, "test", "artifacts")

/** An older day's main log as the dongle writes it, with the BMS not answering from 06:00 to 08:00. */
function olderDay() {
    let t = "# Smart BMS dongle main log,battery serial,PACK-1,battery address,,device,0123456789abcdef\r\n"
    t += "time,voltage_V,current_A,soc_pct,remaining_Ah,cell_min_mV,cell_min_no,cell_max_mV,cell_max_no,temp1_C,temp2_C,charge_mos,discharge_mos,link,alarms,fault_code\r\n"
    let rows = 0
    for (let m = 0; m < 24 * 60; m += 10) {
        const time = `2026-11-20T${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}:00`
        if (m >= 360 && m < 480) t += `${time},,,,,,,,,,,,,bms_data_error,,\r\n`
        else t += `${time},${(52 + Math.sin(m / 200)).toFixed(1)},${(-5 + m / 100).toFixed(1)},${(50 + m / 40).toFixed(1)},50.000,3290,1,3310,4,21,${22 + Math.round(m / 300)},1,1,ok,,0\r\n`
        rows++
    }
    return { text: t, rows }
}

/** The number of line pieces ("M" moves) of a chart's first line: 2 means one gap. */
const segments = (page, where, series) =>
    page.locator(`${where} svg[data-series=${series}] path.line`).getAttribute("d").then(d => (d.match(/M/g) || []).length)

test("charts, log downloads, a day from the card, settings backup and restore, in Chromium", { skip: !CHROMIUM && "Chromium is not installed (.ci/run installs Debian's chromium)" }, async t => {
    const { chromium } = await import("playwright-core")
    const d = await startTestDongle(t, { bms: { cells: 8, temperatureSensors: 2, soc: 70, current: -4.2, capacityAh: 5000 } })
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("hist", { step: 1 })
    await d.settleFlash()
    const day = olderDay()
    fs.mkdirSync(path.join(d.dir, "sd", "LOG"), { recursive: true })
    fs.writeFileSync(path.join(d.dir, "sd", "LOG", "20261120.CSV"), day.text)
    const since = d.mark()
    t.after(() => {
        const bad = d.linesSince(since).filter(l => /Exception|PANIC|cut short|^ +at /.test(l))
        if (bad.length) console.log(`# dongle console: ${bad.join(" / ")}`)
    })
    await d.reset()
    await d.waitForLine(/^Web: port 6789/, { since, timeoutMs: 25000 })
    await d.waitForLine(/^SD log: writing/, { since, timeoutMs: 25000 })
    const port = await d.waitForPort(6789)
    await sleep(4000)
    d.bms.sleep() // a gap in the history
    await d.waitForLine(/^BMS link: bms_data_error/, { since, timeoutMs: 10000 })
    await sleep(3000)
    d.bms.wake()
    await sleep(4000)

    const browser = await chromium.launch({
        executablePath: CHROMIUM, headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    })
    t.after(() => browser.close())
    const context = await browser.newContext({ viewport: { width: 412, height: 915 }, acceptDownloads: true }) // a phone
    const page = await context.newPage()
    const errors = []
    page.on("pageerror", e => errors.push(e.message))
    await page.goto(`http://127.0.0.1:${port}/`)

    // the last 24 hours: five charts drawn by the page, the sleeping BMS as a gap in the line
    await page.waitForSelector("#history svg[data-series=voltage] path.line", { state: "attached", timeout: 20000 }).catch(async e => {
        await page.screenshot({ path: path.join(ARTIFACTS, "charts-timeout.png"), fullPage: true }).catch(() => {})
        const probe = await page.evaluate(() => Promise.race([fetch("/api/history").then(r => r.arrayBuffer()).then(b => "bytes " + b.byteLength, e => "error " + e.message), new Promise(r => setTimeout(() => r("timeout"), 8000))]))
        const logs = await page.evaluate(() => Promise.race([fetch("/api/logs").then(r => r.text(), e => "error " + e.message), new Promise(r => setTimeout(() => r("timeout"), 8000))]))
        throw new Error(`no chart: probe ${probe}, logs ${logs}, console ${d.linesSince(since).filter(l => !l.startsWith("BMS:")).slice(-34, -20).join(" / ")}; "${await page.locator("#histinfo").innerText()}" ${(await page.locator("#history").innerHTML()).slice(0, 300)} ${errors.join("; ")}`)
    })
    assert.equal(await page.locator("#history svg").count(), 5)
    assert.equal(await segments(page, "#history", "voltage"), 2, "one gap: two pieces of line")
    assert.match(await page.locator("#histinfo").innerText(), /one every 1 s; gaps: no data from the BMS/)
    const box = await page.locator("#history svg").first().boundingBox()
    assert.ok(box.width > 300 && box.width <= 412, `the chart fits the phone (${box.width} px)`)

    // the card's logs: listed, downloaded byte for byte
    await page.waitForSelector("#logs a[href='/api/logs/main/20261120.CSV']", { timeout: 20000 })
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#logs a[href='/api/logs/main/20261120.CSV']")])
    assert.equal(download.suggestedFilename(), "main-20261120.CSV")
    assert.equal(fs.readFileSync(await download.path(), "utf8"), day.text)

    // a chosen day charted from its file: every row a point, 06:00-08:00 a gap
    await page.click("button[data-day='20261120.CSV']")
    await page.waitForSelector("#day svg[data-series=voltage] path.line", { state: "attached", timeout: 30000 })
    assert.equal(await page.locator("#day").getAttribute("data-points"), String(day.rows))
    assert.equal(await segments(page, "#day", "voltage"), 2)
    assert.match(await page.locator("#daytitle").innerText(), /^2026-11-20/)
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: path.join(ARTIFACTS, "charts.png"), fullPage: true })

    // settings backup and restore (Setup, after the first setup)
    await page.click("nav button[data-tab=setup]")
    await page.waitForSelector("#login:not([hidden])")
    await page.fill("#password", "correct horse battery")
    await page.click("#loginbtn")
    await page.waitForSelector("#settings:not([hidden])", { timeout: 20000 })
    await page.fill("[id='f-wifi.pass']", "wifi secret 123")
    await page.fill("[id='f-user.serial']", "PACK-1")
    await page.click("#settings button[type=submit]")
    await page.waitForFunction(() => document.getElementById("saved").textContent.startsWith("Saved"), null, { timeout: 20000 })
    await page.waitForSelector("#backup:not([hidden])")
    const [plain] = await Promise.all([page.waitForEvent("download"), page.click("#backupbtn")])
    const plainJson = JSON.parse(fs.readFileSync(await plain.path(), "utf8"))
    assert.equal(plainJson.format, "smartbms-settings")
    assert.equal(plainJson.settings["user.serial"], "PACK-1")
    assert.ok(!("wifi.pass" in plainJson.settings), "no passwords unless asked")
    await page.check("#withsecrets")
    await page.fill("#backuppass", "wrong password")
    await page.click("#backupbtn")
    await page.waitForFunction(() => document.getElementById("backupresult").textContent === "wrong admin password", null, { timeout: 15000 })
    await page.fill("#backuppass", "correct horse battery")
    const [full] = await Promise.all([page.waitForEvent("download"), page.click("#backupbtn")])
    const fullJson = JSON.parse(fs.readFileSync(await full.path(), "utf8"))
    assert.equal(fullJson.settings["wifi.pass"], "wifi secret 123")

    // a restore with a bad value: nothing written, the reason shown
    const bad = path.join(d.dir, "bad.json")
    fs.writeFileSync(bad, JSON.stringify({ ...plainJson, settings: { ...plainJson.settings, "user.serial": "PACK-2", "ports.web": 80 } }))
    await page.setInputFiles("#restorefile", bad)
    await page.click("#restorebtn")
    await page.waitForFunction(() => document.getElementById("backupresult").textContent.startsWith("Nothing restored"), null, { timeout: 15000 })
    assert.match(await page.locator("#backupresult").innerText(), /ports\.web: 80 is not allowed/)
    assert.equal(JSON.parse((await d.readFirmwareSetting("user")).toString()).serial, "PACK-1")
    // a good one
    const good = path.join(d.dir, "good.json")
    fs.writeFileSync(good, JSON.stringify({ ...plainJson, settings: { ...plainJson.settings, "user.serial": "PACK-2", "mqtt.port": 1884 } }))
    await page.setInputFiles("#restorefile", good)
    await page.click("#restorebtn")
    await page.waitForFunction(() => document.getElementById("backupresult").textContent.startsWith("Restored"), null, { timeout: 15000 })
    assert.equal(JSON.parse((await d.readFirmwareSetting("user")).toString()).serial, "PACK-2")
    assert.equal(JSON.parse((await d.readFirmwareSetting("mqtt")).toString()).port, 1884)
    await page.screenshot({ path: path.join(ARTIFACTS, "backup.png"), fullPage: true })
    assert.deepEqual(errors, [], "no script errors on the page")
})
