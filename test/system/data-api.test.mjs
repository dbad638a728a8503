// The API around the data over real HTTP: 24 h history with gaps, the SD card's log files listed and
// streamed byte for byte (a 2 MB file too), settings backup with and without secrets, restore.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { startTestDongle, sleep } from "./helpers.mjs"

/**
 * A file larger than the dongle's whole heap (64 KB) shows the streaming; not 2 MB: the host runtime
 * reads the card at about 4 KB/s (224-byte file-store reads, one at a time), 2 MB took 9 minutes.
 */
const BIG_BYTES = 160 * 1024

/** A dongle with one history point a second, started fresh with those settings. */
async function dataDongle(t, options = {}) {
    const d = await startTestDongle(t, { bms: { cells: 4, temperatureSensors: 2, soc: 61.5, current: -3.2, capacityAh: 5000 }, ...options })
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("hist", { step: 1 })
    await d.settleFlash()
    const since = d.mark()
    d.resetAt = Date.now() // the history begins after this (it is lost at a restart)...
    await d.reset()
    await d.waitForLine(/^Web: port 6789/, { since, timeoutMs: 25000 })
    d.readyAt = Date.now() // ...and before this: the web server starts after it (src/main.ts)
    await d.waitForLine(/^BMS link: ok/, { since })
    d.base = `http://127.0.0.1:${await d.waitForPort(6789)}`
    return d
}

/** The points of GET /api/history (docs/api.md layout). */
function decodeHistory(buf) {
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    const step = v.getUint16(0, true), count = v.getUint16(2, true), age = v.getUint32(4, true)
    const points = []
    for (let i = 0; i < count; i++) {
        const o = 8 + i * 12
        const raw = v.getUint16(o, true)
        points.push(raw === 0xffff ? null : {
            voltage: raw / 100, current: v.getInt16(o + 2, true) / 10, soc: v.getUint16(o + 4, true) / 10,
            cellMin: v.getUint16(o + 6, true), cellMax: v.getUint16(o + 8, true), tempMin: v.getInt8(o + 10), tempMax: v.getInt8(o + 11),
        })
    }
    return { step, count, age, points, length: buf.length }
}

test("GET /api/history: points at the step with the battery's values, a sleeping BMS as a gap", async t => {
    const d = await dataDongle(t)
    await sleep(4500)
    d.bms.sleep()
    await d.waitForLine(/^BMS link: bms_data_error/, { timeoutMs: 10000 })
    await sleep(3000)
    const woke = d.mark()
    d.bms.wake()
    await d.waitForLine(/^BMS link: ok/, { since: woke, timeoutMs: 10000 })
    await sleep(3000)
    const asked = Date.now()
    const r = await fetch(d.base + "/api/history")
    assert.equal(r.status, 200)
    assert.equal(r.headers.get("content-type"), "application/octet-stream")
    const h = decodeHistory(Buffer.from(await r.arrayBuffer()))
    assert.equal(h.step, 1)
    assert.equal(h.length, 8 + 12 * h.count)
    // one point a second since the history began: the waits above last longer on a loaded machine,
    // so the count is measured against the time that passed, not against a fixed expectation
    const most = (asked - d.resetAt) / 1000
    const least = (asked - d.readyAt) / 1000
    assert.ok(h.count >= Math.floor(least) - 1 && h.count <= Math.ceil(most), `${h.count} points: at least ${least.toFixed(1)} s and at most ${most.toFixed(1)} s since the history began`)
    t.diagnostic(`${h.count} points, ${least.toFixed(1)}-${most.toFixed(1)} s`)
    assert.ok(h.age <= 1)
    const m = d.bms.model
    const firstAt = h.points.findIndex(p => p) // a point before the link was up at boot is a gap too
    const first = h.points[firstAt]
    assert.equal(first.current, -3.2)
    assert.equal(first.cellMin, Math.min(...m.cellVoltagesMv()))
    assert.deepEqual([first.tempMin, first.tempMax], [Math.min(...m.temperaturesC()), Math.max(...m.temperaturesC())])
    const gap = h.points.findIndex((p, i) => i > firstAt && p === null)
    assert.ok(gap > 0, "the sleeping BMS left a gap")
    assert.ok(h.points.slice(gap).some(p => p !== null), "and the points go on after it")
})

test("GET /api/logs lists the card's logs; GET /api/logs/<kind>/<name> streams one byte for byte", async t => {
    const d = await dataDongle(t)
    const log = path.join(d.dir, "sd", "LOG")
    fs.mkdirSync(log, { recursive: true })
    let big = "# an older day\r\ntime,voltage_V\r\n"
    for (let i = 0; big.length < BIG_BYTES; i++) big += `2026-11-20T${String(Math.floor(i / 3600) % 24).padStart(2, "0")}:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")},53.${i % 10}\r\n`
    fs.writeFileSync(path.join(log, "20261120.CSV"), big)
    await d.waitForLine(/^SD log: writing/, { timeoutMs: 20000 })
    const list = await (await fetch(d.base + "/api/logs")).json()
    assert.deepEqual(list.main.map(f => f.name).slice(0, 1), ["20261120.CSV"])
    assert.equal(list.main[0].size, big.length)
    assert.ok(list.main.length === 2 && list.cell.length === 0, JSON.stringify(list))
    const today = list.main[1].name
    const small = await fetch(`${d.base}/api/logs/main/${today}`)
    assert.equal(small.status, 200)
    assert.equal(small.headers.get("content-type"), "text/csv; charset=utf-8")
    const text = await small.text()
    assert.ok(text.length >= list.main[1].size, "today's file as listed, or more (it grows)")
    assert.equal(text, fs.readFileSync(path.join(log, today), "utf8").slice(0, text.length))
    const started = Date.now()
    const whole = Buffer.from(await (await fetch(`${d.base}/api/logs/main/20261120.CSV`)).arrayBuffer())
    const ms = Date.now() - started
    t.diagnostic(`${BIG_BYTES} bytes streamed in ${ms} ms (${Math.round(BIG_BYTES / ms)} KB/s)`)
    assert.ok(whole.equals(Buffer.from(big)), "the file arrives byte for byte")
    assert.equal((await fetch(`${d.base}/api/logs/main/20991231.CSV`)).status, 404)
    assert.equal((await fetch(`${d.base}/api/logs/main/..%2FLOGSENT.TXT`)).status, 404)
    assert.equal((await fetch(`${d.base}/api/logs/other/20261120.CSV`)).status, 404)
    assert.equal((await fetch(`${d.base}/api/status`)).status, 200, "the dongle keeps serving")
})

test("GET /api/logs without a card: 503 with the reason", async t => {
    const d = await dataDongle(t, { noSd: true })
    const r = await fetch(d.base + "/api/logs")
    assert.equal(r.status, 503)
    assert.match((await r.json()).error, /no_card/)
})

test("settings backup without and with secrets (admin password again), restored through the same validation", async t => {
    const d = await dataDongle(t)
    const post = async (p, body, cookie) => {
        const mark = d.mark()
        const r = await fetch(d.base + p, { method: "POST", headers: { "Content-Type": "application/json", ...(cookie ? { Cookie: cookie } : {}) }, body: JSON.stringify(body) }).catch(e => {
            throw new Error(`${p}: ${e.message}; console: ${d.linesSince(mark).join(" / ")}`)
        })
        return { status: r.status, data: await r.json(), headers: r.headers }
    }
    assert.equal((await fetch(d.base + "/api/backup")).status, 401)
    const cookie = (await post("/api/setup", { password: "correct horse battery" })).headers.get("set-cookie").split(";")[0]
    assert.equal((await post("/api/settings", { "user.serial": "PACK-5", "wifi.pass": "wifi secret 123", "mqtt.port": 1884 }, cookie)).status, 200)
    // without the secrets the backup is GET /api/settings: secrets only say whether they are set
    assert.equal((await fetch(d.base + "/api/backup", { headers: { Cookie: cookie } })).status, 405)
    const plain = await (await fetch(d.base + "/api/settings", { headers: { Cookie: cookie } })).json()
    assert.equal(plain["user.serial"], "PACK-5")
    assert.equal(plain["mqtt.port"], 1884)
    assert.equal(plain["wifi.pass"], true)
    assert.ok(!JSON.stringify(plain).includes("wifi secret"))
    assert.equal((await post("/api/backup", { password: "wrong password" }, cookie)).status, 403)
    const full = await post("/api/backup", { password: "correct horse battery" }, cookie)
    assert.equal(full.status, 200)
    assert.equal(full.data.settings["wifi.pass"], "wifi secret 123")
    assert.ok(!("admin.pass" in full.data.settings))

    // a restore with one bad value writes nothing
    const bad = { ...full.data.settings, "user.serial": "PACK-6", "ports.web": 80 }
    const refused = await post("/api/settings", bad, cookie)
    assert.equal(refused.status, 400)
    assert.deepEqual(Object.keys(refused.data.errors), ["ports.web"])
    assert.equal(JSON.parse((await d.readFirmwareSetting("user")).toString()).serial, "PACK-5")
    // a good one is written whole
    const ok = await post("/api/settings", { ...full.data.settings, "user.serial": "PACK-6" }, cookie)
    assert.equal(ok.status, 200)
    assert.equal(JSON.parse((await d.readFirmwareSetting("user")).toString()).serial, "PACK-6")
})
