// The web server and JSON API over real HTTP: status JSON, limits and status codes, authentication,
// rate limit, settings with field errors, secrets never sent back, actions reaching the BMS.
import { test } from "node:test"
import assert from "node:assert/strict"
import net from "node:net"
import fs from "node:fs"
import path from "node:path"
import { startTestDongle, sleep, pollCycles } from "./helpers.mjs"

async function webDongle(t, options = {}) {
    const d = await startTestDongle(t, { bms: { cells: 8, temperatureSensors: 2, soc: 66.6, current: 3.3, capacityAh: 5000 }, ...options })
    await d.waitForLine(/^Web: port 6789/, { timeoutMs: 25000 })
    await d.waitForLine(/^BMS link: ok/)
    const port = await d.waitForPort(6789)
    const base = `http://127.0.0.1:${port}`
    const bodies = [] // every response body, to check that no secret ever leaves
    const http = async (path, { method = "GET", body, cookie, headers = {} } = {}) => {
        const h = { ...headers }
        if (body !== undefined) h["Content-Type"] = "application/json"
        if (cookie) h["Cookie"] = cookie
        const r = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) })
        const text = await r.text()
        bodies.push(text)
        let data = null
        try { data = JSON.parse(text) } catch {}
        return { status: r.status, data, text, headers: r.headers }
    }
    return { d, port, http, bodies }
}

/** Sends raw bytes and returns the status line of the answer (or "closed"). */
function raw(port, bytes) {
    return new Promise(resolve => {
        const s = net.connect(port, "127.0.0.1")
        let got = ""
        s.on("data", b => (got += b))
        s.on("close", () => resolve(got.split("\r\n")[0] || "closed"))
        s.on("error", () => {})
        s.on("connect", () => s.write(bytes))
        setTimeout(() => s.destroy(), 8000)
    })
}

test("GET /api/status: the device and the battery, with the documented fields", async t => {
    const { d, http } = await webDongle(t)
    const { status, data } = await http("/api/status")
    assert.equal(status, 200)
    assert.deepEqual(Object.keys(data.device).sort(), ["firmware", "hostname", "id", "ip", "mode", "reset_counter", "uptime_s"])
    assert.equal(data.device.mode, "ap")
    assert.equal(data.device.hostname, "smartbms")
    assert.equal(data.device.reset_counter, 1)
    const m = d.bms.model
    assert.equal(data.bms.link, "ok")
    assert.equal(data.bms.voltage_v, m.packVoltageDv() / 10)
    assert.equal(data.bms.current_a, 3.3)
    assert.equal(data.bms.soc_pct, Math.round(m.soc * 10) / 10)
    assert.deepEqual(data.bms.cells_mv, m.cellVoltagesMv())
    assert.deepEqual(data.bms.temps_c, m.temperaturesC())
    for (const k of ["remaining_ah", "cycles", "charge_mos", "discharge_mos", "balancing", "alarms", "fault_code", "age_s"]) assert.ok(k in data.bms, k)
    assert.deepEqual(data.bms.alarms, [])
})

test("GET /api/schema: the settings table's rows as in flash, in the columns the page reads", async t => {
    const { http } = await webDongle(t)
    const { status, data, headers } = await http("/api/schema")
    assert.equal(status, 200)
    assert.match(headers.get("content-type"), /^application\/json/)
    // the page's column list is the firmware's (web/app.js SCHEMA_KEYS = src/settings/schema.ts KEYS)
    const root = new URL("../..", import.meta.url).pathname
    const keysOf = (file, re) => JSON.parse(fs.readFileSync(path.join(root, file), "utf8").match(re)[1])
    const keys = keysOf("src/settings/schema.ts", /^const KEYS = (\[.*\])$/m)
    assert.deepEqual(keysOf("web/app.js", /^const SCHEMA_KEYS = (\[.*\])$/m), keys)
    assert.equal(data.length, 45)
    for (const row of data) {
        assert.ok(row.length >= 3 && row.length <= keys.length, JSON.stringify(row))
        assert.match(row[0], /^[a-zA-Z]+\.[a-zA-Z]+$/)
    }
    const spec = id => Object.fromEntries(data.find(r => r[0] === id).map((v, k) => [keys[k], v]).filter(kv => kv[1] !== null))
    assert.deepEqual(spec("ports.web"), { id: "ports.web", kind: 2, def: 6789, min: 1, max: 65535, forbidden: [80] })
    assert.deepEqual(spec("wifi.pass"), { id: "wifi.pass", kind: 1, def: "", minLength: 8, maxLength: 63, text: 0, secret: true, emptyOk: true })
})

test("while the BMS does not answer the measurements are null and the last good snapshot is apart", async t => {
    const { d, http } = await webDongle(t)
    d.bms.sleep()
    await d.waitForLine(/^BMS link: bms_data_error/, { timeoutMs: 10000 })
    const { data } = await http("/api/status")
    assert.equal(data.bms.link, "bms_data_error")
    for (const k of ["voltage_v", "current_a", "soc_pct", "remaining_ah", "cycles", "cells_mv", "temps_c", "charge_mos", "age_s"]) assert.equal(data.bms[k], null, k)
    assert.equal(data.last_good.cells_mv.length, 8)
    assert.ok(data.last_good.age_s >= 1)
})

test("status codes: 404, 405, 400, 401, 411, 413, 431, 505; the dongle keeps serving", async t => {
    const { port, http } = await webDongle(t)
    assert.equal((await http("/nope.html")).status, 404)
    assert.equal((await http("/api/nope")).status, 404)
    assert.equal((await http("/api/status", { method: "DELETE" })).status, 405)
    assert.equal((await http("/api/login")).status, 405)
    assert.equal((await http("/api/settings")).status, 401)
    assert.equal((await http("/api/action", { method: "POST", body: { action: "reboot" } })).status, 401)
    assert.equal(await raw(port, "NONSENSE\r\n\r\n"), "HTTP/1.1 400 Bad Request")
    assert.equal(await raw(port, "GET / HTTP/2.0\r\n\r\n"), "HTTP/1.1 505 HTTP Version Not Supported")
    assert.equal(await raw(port, "POST /api/login HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), "HTTP/1.1 411 Length Required")
    assert.equal(await raw(port, "POST /api/login HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"), "HTTP/1.1 413 Content Too Large")
    assert.equal(await raw(port, `GET / HTTP/1.1\r\nX-Big: ${"x".repeat(3000)}\r\n\r\n`), "HTTP/1.1 431 Request Header Fields Too Large")
    assert.equal((await http("/api/status")).status, 200)
})

test("connections: more than 4 at once get 503; an idle one is closed", async t => {
    const { port, http } = await webDongle(t)
    const idle = []
    for (let i = 0; i < 4; i++) { // MAX_ACTIVE: each open connection costs heap
        const s = net.connect(port, "127.0.0.1")
        s.on("error", () => {})
        await new Promise(r => s.on("connect", r))
        idle.push(s)
    }
    await sleep(500)
    assert.equal(await raw(port, "GET /api/status HTTP/1.1\r\n\r\n"), "HTTP/1.1 503 Service Unavailable")
    const closed = await new Promise(resolve => {
        idle[0].on("close", () => resolve(true))
        setTimeout(() => resolve(false), 14000)
    })
    assert.ok(closed, "an idle connection is closed after 5 s")
    idle.forEach(s => s.destroy())
    // a place is free once the server has closed its end (a round trip to the socket service): a
    // request before that is told 503, as it should be; the places come back within a few seconds
    let status
    for (const deadline = Date.now() + 10000; (status = (await http("/api/status")).status) === 503 && Date.now() < deadline; ) await sleep(200)
    assert.equal(status, 200)
})

test("first setup, login, rate limit, settings with field errors, secrets never sent back", async t => {
    const { d, http, bodies } = await webDongle(t)
    assert.equal((await http("/api/login", { method: "POST", body: { password: "whatever1" } })).status, 401)
    const bad = await http("/api/setup", { method: "POST", body: { password: "short" } })
    assert.equal(bad.status, 400)
    assert.equal(bad.data.errors.password, "8 to 64 characters")
    const setup = await http("/api/setup", { method: "POST", body: { password: "correct horse battery" } })
    assert.equal(setup.status, 200)
    assert.match(setup.headers.get("set-cookie"), /^sid=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Strict$/)
    assert.equal((await http("/api/setup", { method: "POST", body: { password: "another one!" } })).status, 403)
    const stored = (await d.readFirmwareSetting("admin")).toString()
    assert.doesNotMatch(stored, /correct horse/, "only a hash is stored")

    const login = await http("/api/login", { method: "POST", body: { password: "correct horse battery" } })
    assert.equal(login.status, 200)
    const cookie = login.headers.get("set-cookie").split(";")[0]

    const errors = await http("/api/settings", { method: "POST", cookie, body: { "ports.web": 80, "wifi.host": "Bad Name", "nope.x": 1 } })
    assert.equal(errors.status, 400)
    assert.deepEqual(errors.data.errors, { "ports.web": "80 is not allowed", "wifi.host": "only a-z, 0-9 and -", "nope.x": "unknown setting" })
    const ok = await http("/api/settings", { method: "POST", cookie, body: { "wifi.ssid": "home", "wifi.pass": "wifi secret 123", "mqttAuth.pass": "mqtt secret 456", "user.serial": "PACK-7" } })
    assert.equal(ok.status, 200)
    const settings = await http("/api/settings", { cookie })
    assert.equal(settings.data["wifi.ssid"], "home")
    assert.equal(settings.data["wifi.pass"], true, "secrets show only whether they are set")
    assert.equal(settings.data["ftpAuth.pass"], false)
    assert.ok(!("admin.pass" in settings.data) || typeof settings.data["admin.pass"] === "boolean")

    // five wrong passwords: logins refused for a minute, with Retry-After
    for (let i = 0; i < 5; i++) assert.equal((await http("/api/login", { method: "POST", body: { password: "wrong password" } })).status, 401)
    const locked = await http("/api/login", { method: "POST", body: { password: "correct horse battery" } })
    assert.equal(locked.status, 429)
    assert.ok(Number(locked.headers.get("retry-after")) > 0)

    for (const secret of ["correct horse battery", "wifi secret 123", "mqtt secret 456"])
        assert.ok(!bodies.some(b => b.includes(secret)), `"${secret}" never appears in a response`)
    assert.ok(!bodies.some(b => b.includes(stored.slice(9, 40))), "nor the stored hash")
})

test("actions need a session and reach the BMS", async t => {
    const { d, http } = await webDongle(t)
    const setup = await http("/api/setup", { method: "POST", body: { password: "correct horse battery" } })
    const cookie = setup.headers.get("set-cookie").split(";")[0]
    assert.equal((await http("/api/action", { method: "POST", body: { action: "charge_mos", on: false } })).status, 401)
    assert.equal((await http("/api/action", { method: "POST", cookie, body: { action: "charge_mos", on: false } })).status, 200)
    assert.equal(d.bms.model.chargeMos, false)
    assert.equal((await http("/api/action", { method: "POST", cookie, body: { action: "set_soc", soc: 12.5 } })).status, 200)
    assert.equal(Math.round(d.bms.model.soc * 10), 125)
    assert.equal((await http("/api/action", { method: "POST", cookie, body: { action: "set_soc", soc: 101 } })).status, 400)
    assert.equal((await http("/api/action", { method: "POST", cookie, body: { action: "explode" } })).status, 400)
    await pollCycles(d)
    const s = await http("/api/status")
    assert.equal(s.data.bms.charge_mos, false)
    assert.equal(s.data.bms.soc_pct, 12.5)
})

test("reboot from the web: the chip resets (a software reboot, not counted as a press), settings kept", async t => {
    const { d, http } = await webDongle(t)
    await d.waitForLine(/^Reset counter 1: normal start/, { timeoutMs: 20000 })
    const setup = await http("/api/setup", { method: "POST", body: { password: "correct horse battery" } })
    const cookie = setup.headers.get("set-cookie").split(";")[0]
    await http("/api/settings", { method: "POST", cookie, body: { "user.serial": "PACK-7" } })
    await d.settleFlash()
    const since = d.mark()
    const boots = d.boots
    assert.equal((await http("/api/action", { method: "POST", cookie, body: { action: "reboot" } })).status, 202)
    await d.waitForLine("Reset reason: software (ds.reboot())", { since, timeoutMs: 20000 })
    assert.equal(d.boots, boots + 1, "a chip reset: the host started a new VM")
    await d.waitForLine("Reset counter: 0", { since, timeoutMs: 20000 }) // not a press
    await d.waitForLine(/^BMS link: ok/, { since, timeoutMs: 20000 })
    assert.equal(JSON.parse((await d.readFirmwareSetting("user")).toString()).serial, "PACK-7")
})

test("factory reset from the web: everything wiped, restart into access point mode", async t => {
    const { d, http } = await webDongle(t)
    const setup = await http("/api/setup", { method: "POST", body: { password: "correct horse battery" } })
    const cookie = setup.headers.get("set-cookie").split(";")[0]
    await http("/api/settings", { method: "POST", cookie, body: { "user.serial": "PACK-9" } })
    const since = d.mark()
    assert.equal((await http("/api/action", { method: "POST", cookie, body: { action: "factory_reset" } })).status, 202)
    await d.waitForLine("Factory reset: restarting in access point mode", { since, timeoutMs: 10000 })
    await d.waitForLine(/^Wi-Fi: access point mode/, { since, timeoutMs: 20000 })
    assert.equal((await d.readFirmwareSetting("user")).length, 0)
    assert.equal((await d.readFirmwareSetting("admin")).length, 0)
})
