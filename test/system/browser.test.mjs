// A real browser (Debian's Chromium, driven by playwright-core; never a downloaded browser) uses the
// dongle's pages: live cell values, first setup, a setting changed, a field error shown. Screenshots
// are kept in test/artifacts/.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { PROJECT_DIR } from "../../host/dongle.mjs"
import { startTestDongle } from "./helpers.mjs"

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(p => fs.existsSync(p))
const ARTIFACTS = path.join(PROJECT_DIR, "test", "artifacts")

test("status, first setup, a setting changed, a field error, in Chromium", { skip: !CHROMIUM && "Chromium is not installed (.ci/run installs Debian's chromium)" }, async t => {
    await scenario(t)
})

async function scenario(t) {
    const { chromium } = await import("playwright-core")
    const d = await startTestDongle(t, { bms: { cells: 16, temperatureSensors: 2, soc: 81.4, current: -4.2, capacityAh: 5000 } })
    await d.waitForLine(/^Web: port 6789/, { timeoutMs: 25000 })
    await d.waitForLine(/^BMS link: ok/)
    const port = await d.waitForPort(6789)
    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    })
    t.after(() => browser.close())
    const page = await browser.newPage({ viewport: { width: 412, height: 915 } }) // a phone
    await page.goto(`http://127.0.0.1:${port}/`)
    const cells = d.bms.model.cellVoltagesMv()
    await page.waitForSelector(".cell", { timeout: 15000 })
    assert.equal(await page.locator(".cell").count(), 16)
    const texts = await page.locator(".cell").allInnerTexts()
    assert.deepEqual(texts.map(s => Number(s.split("\n").pop())), cells)
    assert.equal(await page.locator(".cell.min").first().innerText().then(s => Number(s.split("\n").pop())), Math.min(...cells))
    assert.equal(await page.locator("#soc").innerText(), "81.4 %")
    // the bars are drawn: the highest cell full height, the lowest the shortest
    const heights = await page.locator(".bar i").evaluateAll(els => els.map(e => e.getBoundingClientRect().height))
    const full = Math.max(...heights)
    assert.ok(full > 20, `bars are drawn (${full} px)`)
    assert.equal(heights[cells.indexOf(Math.max(...cells))], full)
    assert.equal(Math.min(...heights), heights[cells.indexOf(Math.min(...cells))])
    assert.equal(await page.locator("#link").innerText(), "BMS ok")
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: path.join(ARTIFACTS, "status.png"), fullPage: true })

    // first setup in access point mode: choose the admin password
    await page.click("nav button[data-tab=setup]")
    await page.waitForSelector("#login:not([hidden])")
    assert.match(await page.locator("#loginhint").innerText(), /First setup/)
    await page.fill("#password", "correct horse battery")
    await page.click("#loginbtn")
    await page.waitForSelector("#settings:not([hidden])", { timeout: 20000 })

    // a bad value: the field's error is shown, nothing is saved
    await page.fill("[id='f-ports.web']", "80")
    await page.click("#settings button[type=submit]")
    await page.waitForFunction(() => document.getElementById("e-ports.web").textContent !== "", null, { timeout: 20000 }).catch(async e => {
        await page.screenshot({ path: path.join(ARTIFACTS, "setup-timeout.png"), fullPage: true })
        throw new Error(`no field error; the page says "${await page.locator("#saved").innerText()}", the field holds "${await page.locator("[id='f-ports.web']").inputValue()}"`)
    })
    assert.equal(await page.locator("[id='e-ports.web']").innerText(), "80 is not allowed")
    await page.screenshot({ path: path.join(ARTIFACTS, "setup-error.png"), fullPage: true })

    // a good value is saved and read back
    await page.fill("[id='f-ports.web']", "6789")
    await page.fill("[id='f-user.serial']", "PACK-0815")
    await page.click("#settings button[type=submit]")
    await page.waitForFunction(() => document.getElementById("saved").textContent.startsWith("Saved"), null, { timeout: 20000 })
    assert.deepEqual(JSON.parse((await d.readFirmwareSetting("user")).toString()), { serial: "PACK-0815" })

    // the status refreshes without reloading: a change of the battery shows up
    await page.click("nav button[data-tab=status]")
    d.bms.model.soc = 42
    await page.waitForFunction(() => document.getElementById("soc").textContent === "42.0 %", null, { timeout: 20000 })
}
