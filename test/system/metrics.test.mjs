// GET /metrics checked by a real parser of the Prometheus text format: Debian's promtool (package
// prometheus, installed by .ci/run), and the values against the virtual BMS.
import { test } from "node:test"
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { startTestDongle, sleep, pollCycles, tempDir } from "./helpers.mjs"

const PROMTOOL = spawnSync("promtool", ["--version"]).status === 0

/** promtool's verdict on an exposition: its exit code and what it says. */
function promtool(text) {
    const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" })
    return { code: r.status, out: (r.stdout + r.stderr).trim() }
}

/** The samples of an exposition: "name{labels}" -> number. */
function samples(text) {
    const m = new Map()
    for (const line of text.split("\n")) if (line && !line.startsWith("#")) {
        const sp = line.lastIndexOf(" ")
        m.set(line.slice(0, sp), Number(line.slice(sp + 1)))
    }
    return m
}

test("GET /metrics: promtool accepts it; every value with its unit; no battery values while the BMS sleeps", { skip: !PROMTOOL && "promtool is not installed (.ci/run installs Debian's prometheus)" }, async t => {
    const d = await startTestDongle(t, { bms: { cells: 4, temperatureSensors: 2, soc: 58.2, current: -6.4, capacityAh: 5000 } })
    await d.waitForLine(/^Web: port 6789/, { timeoutMs: 25000 })
    await d.waitForLine(/^BMS link: ok/)
    const base = `http://127.0.0.1:${await d.waitForPort(6789)}`
    const r = await fetch(base + "/metrics")
    assert.equal(r.status, 200)
    assert.equal(r.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
    const text = await r.text()
    const check = promtool(text)
    assert.equal(check.code, 0, `promtool check metrics: ${check.out}\n${text}`)
    const s = samples(text)
    const m = d.bms.model
    const cells = m.cellVoltagesMv()
    assert.equal(s.get("smartbms_pack_voltage_volts"), m.packVoltageDv() / 10)
    assert.equal(s.get("smartbms_pack_current_amperes"), -6.4)
    assert.equal(s.get("smartbms_state_of_charge_ratio"), Math.round(m.soc * 10) / 1000)
    const status = await (await fetch(base + "/api/status")).json()
    assert.ok(Math.abs(s.get("smartbms_remaining_capacity_coulombs") - status.bms.remaining_ah * 3600) < 100, "Ah as coulombs (the pack discharges between the two requests)")
    assert.equal(s.get('smartbms_cell_voltage_volts{cell="3"}'), cells[2] / 1000)
    assert.equal(s.get("smartbms_cell_voltage_min_volts"), Math.min(...cells) / 1000)
    assert.equal(s.get('smartbms_temperature_celsius{sensor="2"}'), m.temperaturesC()[1])
    assert.equal(s.get('smartbms_bms_link{state="ok"}'), 1)
    assert.equal(s.get('smartbms_bms_link{state="bms_data_error"}'), undefined, "one series, the current state")
    assert.equal(s.get('smartbms_alarm{alarm="cell_volt_high_l1"}'), 0)
    assert.equal([...s.keys()].filter(k => k.startsWith("smartbms_alarm{")).length, 48, "every named alarm bit (docs/bms.md: 48 of the 56 bits have names)")
    assert.equal(s.get('smartbms_battery_state{state="discharging"}'), 1)
    assert.equal(s.get("smartbms_charge_mos_on"), 1)
    assert.equal(s.get("smartbms_quick_restarts"), 1)
    assert.ok(s.get("smartbms_uptime_seconds") >= 1)
    assert.equal(s.get('smartbms_sd_card_state{state="ok"}') ?? s.get('smartbms_sd_card_state{state="starting"}'), 1)
    assert.equal(s.get('smartbms_mqtt_state{state="off"}'), 1)
    assert.equal(s.get('smartbms_ftp_state{state="off"}'), 1)
    assert.equal(s.get('smartbms_bms_polling{state="active"}'), 1)
    assert.equal(s.get("smartbms_wifi_signal_dbm"), undefined, "no Wi-Fi signal where the platform reports none")

    // an alarm shows as its labelled gauge
    m.forcedAlarms[0] |= 1
    await pollCycles(d)
    assert.equal(samples(await (await fetch(base + "/metrics")).text()).get('smartbms_alarm{alarm="cell_volt_high_l1"}'), 1)

    // the BMS asleep: the link says so and the battery values are left out, never 0
    d.bms.sleep()
    await d.waitForLine(/^BMS link: bms_data_error/, { timeoutMs: 10000 })
    const asleep = await (await fetch(base + "/metrics")).text()
    assert.equal(promtool(asleep).code, 0, promtool(asleep).out)
    const a = samples(asleep)
    assert.equal(a.get('smartbms_bms_link{state="bms_data_error"}'), 1)
    for (const k of a.keys()) assert.doesNotMatch(k, /pack_|cell_|temperature|state_of_charge|alarm|mos/, k)
    assert.equal((await fetch(base + "/metrics", { method: "HEAD" })).status, 200)
})

test("GET /metrics can be turned off (ports.metrics)", async t => {
    const d = await startTestDongle(t)
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("ports", { metrics: false })
    await d.settleFlash()
    const since = d.mark()
    await d.reset()
    await d.waitForLine(/^Web: port 6789/, { since, timeoutMs: 25000 })
    const base = `http://127.0.0.1:${await d.waitForPort(6789)}`
    const r = await fetch(base + "/metrics")
    assert.equal(r.status, 404)
    assert.match((await r.json()).error, /turned off/)
    assert.equal((await fetch(base + "/api/status")).status, 200)
})

test("GET /metrics: the Wi-Fi signal where the platform reports it (the host's /proc/net/wireless)", { skip: !PROMTOOL && "promtool is not installed (.ci/run installs Debian's prometheus)" }, async t => {
    const wireless = path.join(tempDir(t), "wireless")
    fs.copyFileSync(new URL("../fixtures/proc-net-wireless.txt", import.meta.url), wireless)
    const d = await startTestDongle(t, { wirelessFile: wireless })
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("wifi", { ssid: "host-network", pass: "correct horse" }) // the signal is the station's
    await d.settleFlash()
    const boot = d.mark()
    await d.reset()
    await d.waitForLine('Wi-Fi: station mode, connected to "host-network", IP 127.0.0.1', { since: boot, timeoutMs: 20000 })
    const base = `http://127.0.0.1:${await d.waitForPort(6789)}`
    const text = await (await fetch(base + "/metrics")).text()
    assert.equal(promtool(text).code, 0, promtool(text).out)
    assert.match(text, /^# TYPE smartbms_wifi_signal_dbm gauge$/m)
    assert.equal(samples(text).get("smartbms_wifi_signal_dbm"), -56)
    // the level moves: read again by the host every 5 s
    fs.writeFileSync(wireless, fs.readFileSync(wireless, "utf8").replace("-56.", "-71."))
    const deadline = Date.now() + 15000
    let now
    while ((now = samples(await (await fetch(base + "/metrics")).text()).get("smartbms_wifi_signal_dbm")) !== -71 && Date.now() < deadline) await sleep(500)
    assert.equal(now, -71)
})
