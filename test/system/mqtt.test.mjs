// The MQTT uplink against a real broker on loopback (aedes) and a real client (mqtt.js): discovery,
// availability with last will, state and per-value topics, commands only when enabled, credentials,
// a stopped broker, a sleeping BMS.
import { test } from "node:test"
import assert from "node:assert/strict"
import net from "node:net"
import { Aedes } from "aedes"
import mqtt from "mqtt"
import fs from "node:fs"
import path from "node:path"
import { startTestDongle, sleep, tempDir } from "./helpers.mjs"
import { VirtualBms } from "../../host/bms/virtual-bms.mjs"

const USER = "dongle"
const PASSWORD = "mqtt-secret-9"

async function broker(t, port = 0, { accept = () => true } = {}) {

    const aedes = Aedes.createBroker ? await Aedes.createBroker() : new Aedes()
    aedes.authenticate = (client, username, password, done) => {
        const ok = username === USER && password?.toString() === PASSWORD && accept()
        done(ok ? null : Object.assign(new Error("bad credentials"), { returnCode: 4 }), ok)
    }
    const server = net.createServer(aedes.handle)
    await new Promise(r => server.listen(port, "127.0.0.1", r))
    const stop = () => new Promise(r => { server.close(() => r()); aedes.close(); for (const c of Object.values(aedes.clients ?? {})) c.close?.() })
    t.after(stop)
    return { aedes, server, port: server.address().port, stop }
}

async function watcher(t, port) {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: USER, password: PASSWORD, reconnectPeriod: 500 })
    t.after(() => c.end(true))
    const seen = new Map()
    c.on("message", (topic, payload, packet) => seen.set(topic, { text: payload.toString(), retain: packet.retain }))
    await c.subscribeAsync("#")
    const until = async (topic, pred = () => true, ms = 30000) => {
        const deadline = Date.now() + ms
        while (!(seen.has(topic) && pred(seen.get(topic).text))) {
            if (Date.now() > deadline) assert.fail(`no ${topic} (seen: ${[...seen.keys()].slice(0, 12).join(", ")})`)
            await sleep(50)
        }
        return seen.get(topic).text
    }
    return { c, seen, until }
}

/**
 * `wireless`: a /proc/net/wireless of the host (the Wi-Fi signal), with the station configured;
 * `bmsAsleep`: the BMS does not answer when the dongle starts
 */
async function mqttDongle(t, port, mqttSettings = {}, { wireless = null, bmsAsleep = false } = {}) {
    const d = await startTestDongle(t, { bms: { cells: 4, temperatureSensors: 2, soc: 58.2, current: -6.4, capacityAh: 5000 }, ...(wireless ? { wirelessFile: wireless } : {}) })
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    if (wireless) await d.writeFirmwareSetting("wifi", { ssid: "host-network", pass: "correct horse" })
    await d.writeFirmwareSetting("mqtt", { on: true, host: "127.0.0.1", port, period: 2, ...mqttSettings })
    await d.writeFirmwareSetting("mqttAuth", { user: USER, pass: PASSWORD })
    await d.writeFirmwareSetting("user", { serial: "PACK-77" })
    await d.settleFlash()
    d.bootMark = d.mark()
    if (bmsAsleep) d.bms.sleep()
    await d.reset()
    const id = (await d.waitForLine(/^Device id: /, { since: d.bootMark })).slice(11)
    return { d, prefix: `smartbms/${id}`, id }
}

test("discovery, availability, state JSON and per-value topics with the battery's values", async t => {
    const b = await broker(t)
    const w = await watcher(t, b.port)
    const { d, prefix, id } = await mqttDongle(t, b.port)
    assert.equal(await w.until(`${prefix}/status`, v => v === "online"), "online")
    await d.waitForLine(/^MQTT: Home Assistant discovery: 22 entities$/, { since: d.bootMark, timeoutMs: 20000 })
    const voltage = JSON.parse(await w.until(`homeassistant/sensor/smartbms_${id}/voltage/config`))
    assert.equal(voltage.state_topic, `${prefix}/voltage`)
    assert.equal(voltage.device_class, "voltage")
    assert.equal(voltage.state_class, "measurement")
    assert.equal(voltage.unit_of_measurement, "V")
    assert.equal(voltage.availability_topic, `${prefix}/status`)
    assert.equal(voltage.device.serial_number, "PACK-77")
    assert.equal(voltage.device.sw_version, "0.1.0")
    assert.equal(JSON.parse(await w.until(`homeassistant/sensor/smartbms_${id}/cell_4/config`)).unit_of_measurement, "mV")
    assert.equal(JSON.parse(await w.until(`homeassistant/sensor/smartbms_${id}/temp_2/config`)).device_class, "temperature")
    const mos = JSON.parse(await w.until(`homeassistant/binary_sensor/smartbms_${id}/charge_mos/config`))
    assert.equal(mos.command_topic, undefined, "no command topic while commands are off")
    const m = d.bms.model
    const state = JSON.parse(await w.until(`${prefix}/state`, v => JSON.parse(v).voltage_v !== null))
    assert.equal(state.link, "ok")
    assert.equal(state.voltage_v, m.packVoltageDv() / 10)
    assert.equal(state.current_a, -6.4)
    assert.deepEqual(state.cells_mv, m.cellVoltagesMv())
    assert.equal(await w.until(`${prefix}/current`), "-6.4")
    assert.equal(await w.until(`${prefix}/soc`), (Math.round(m.soc * 10) / 10).toFixed(1))
    assert.equal(await w.until(`${prefix}/cell/2`), String(m.cellVoltagesMv()[1]))
    assert.equal(await w.until(`${prefix}/charge_mos`), "ON")
    // retained: a client arriving now gets the availability and the last values at once
    const late = await watcher(t, b.port)
    await late.until(`${prefix}/status`, v => v === "online", 5000)
    assert.equal(late.seen.get(`${prefix}/status`).retain, true)
    await late.until(`${prefix}/voltage`, () => true, 5000) // retained messages come in the broker's order, not the publisher's
    assert.equal(late.seen.get(`${prefix}/voltage`).retain, true)
    // commands are off: a command changes nothing
    await w.c.publishAsync(`${prefix}/set/charge_mos`, "OFF")
    await sleep(1500)
    assert.equal(m.chargeMos, true)
    // the BMS falls asleep: published as bms_data_error, and back
    d.bms.sleep()
    assert.equal(await w.until(`${prefix}/link`, v => v === "bms_data_error", 15000), "bms_data_error")
    assert.equal(JSON.parse(w.seen.get(`${prefix}/state`).text).voltage_v, null)
    d.bms.wake()
    assert.equal(await w.until(`${prefix}/link`, v => v === "ok", 15000), "ok")
    // the dongle dies: the broker publishes its last will
    await d.vm.kill()
    assert.equal(await w.until(`${prefix}/status`, v => v === "offline", 10000), "offline")
})

test("commands when enabled change the BMS; anything else is ignored with a console line", async t => {
    const b = await broker(t)
    const w = await watcher(t, b.port)
    const { d, prefix, id } = await mqttDongle(t, b.port, { cmds: true })
    await w.until(`${prefix}/status`, v => v === "online")
    const sw = JSON.parse(await w.until(`homeassistant/switch/smartbms_${id}/charge_mos/config`))
    assert.equal(sw.command_topic, `${prefix}/set/charge_mos`)
    // the dongle subscribes after its discovery and before its state: once the state is here, the
    // broker has its subscription (one connection, in order)
    await w.until(`${prefix}/state`)
    await w.c.publishAsync(`${prefix}/set/charge_mos`, "OFF")
    await d.waitForLine("MQTT: command charge_mos OFF: done", { since: d.bootMark, timeoutMs: 10000 })
    assert.equal(d.bms.model.chargeMos, false)
    assert.equal(await w.until(`${prefix}/charge_mos`, v => v === "OFF", 10000), "OFF")
    await w.c.publishAsync(`${prefix}/set/soc`, "33.3")
    await d.waitForLine("MQTT: command soc 33.3: done", { since: d.bootMark, timeoutMs: 10000 })
    assert.equal(Math.round(d.bms.model.soc * 10), 333)
    await w.c.publishAsync(`${prefix}/set/charge_mos`, "maybe")
    await d.waitForLine(/^MQTT: ignoring smartbms\/[0-9a-f]+\/set\/charge_mos "maybe"/, { since: d.bootMark, timeoutMs: 10000 })
    await w.c.publishAsync(`${prefix}/set/explode`, "1")
    await d.waitForLine(/^MQTT: ignoring smartbms\/[0-9a-f]+\/set\/explode "1"/, { since: d.bootMark, timeoutMs: 10000 })
})

test("Home Assistant: every discovery payload parses, every state topic it names gets values, the SOC number and the reset button round-trip", async t => {
    const b = await broker(t)
    const w = await watcher(t, b.port)
    const { d, prefix, id } = await mqttDongle(t, b.port, { cmds: true })
    await d.waitForLine(/^MQTT: Home Assistant discovery: 24 entities$/, { since: d.bootMark, timeoutMs: 30000 })
    await w.until(`${prefix}/voltage`)
    await sleep(2500) // one more period: every value topic published at least once
    const configs = [...w.seen.keys()].filter(k => k.startsWith(`homeassistant/`) && k.endsWith("/config"))
    assert.equal(configs.length, 24, configs.join(", "))
    const stateTopics = new Set()
    for (const topic of configs) {
        const c = JSON.parse(w.seen.get(topic).text) // every payload is JSON
        assert.match(c.unique_id, new RegExp(`^smartbms_${id}_`))
        assert.equal(c.availability_topic, `${prefix}/status`)
        assert.equal(c.device.name, "Smart BMS PACK-77", "the battery serial tells the dongles apart")
        assert.equal(c.device.configuration_url, "http://127.0.0.1:6789/")
        assert.deepEqual(c.device.identifiers, [`smartbms_${id}`])
        if (c.state_topic) stateTopics.add(c.state_topic)
        if (c.command_topic) assert.match(c.command_topic, new RegExp(`^${prefix}/set/`))
    }
    for (const topic of stateTopics) assert.ok(await w.until(topic, v => v !== "", 10000), `${topic} has a value`)
    const late = await watcher(t, b.port) // retained: Home Assistant starting later gets them all
    for (const topic of configs) {
        await late.until(topic, () => true, 5000) // in the broker's order, not the publisher's
        assert.equal(late.seen.get(topic).retain, true, `${topic} retained`)
    }
    const diag = key => JSON.parse(w.seen.get(configs.find(k => k.endsWith(`/${key}/config`))).text)
    for (const key of ["link", "uptime", "sd", "ftp_last_upload"]) assert.equal(diag(key).entity_category, "diagnostic", key)
    assert.equal(diag("uptime").device_class, "duration")
    assert.ok(Number(w.seen.get(`${prefix}/uptime`).text) >= 1)
    assert.equal(w.seen.get(`${prefix}/sd`).text, "ok")
    assert.equal(w.seen.get(`${prefix}/ftp_last_upload`).text, "never")
    assert.ok(!configs.some(k => k.includes("wifi_rssi")), "no Wi-Fi signal entity where the platform reports none")

    // the SOC number: state and command round-trip
    const num = JSON.parse(w.seen.get(`homeassistant/number/smartbms_${id}/soc_set/config`).text)
    assert.equal(num.command_topic, `${prefix}/set/soc`)
    assert.equal(num.state_topic, `${prefix}/soc`)
    assert.deepEqual([num.min, num.max, num.step], [0, 100, 0.1])
    await w.c.publishAsync(num.command_topic, "44.4")
    assert.equal(await w.until(num.state_topic, v => v === "44.4", 15000), "44.4")
    assert.equal(Math.round(d.bms.model.soc * 10), 444)

    // the reset button: pressed from Home Assistant, the BMS gets its reset command
    const button = JSON.parse(w.seen.get(`homeassistant/button/smartbms_${id}/bms_reset/config`).text)
    assert.equal(button.command_topic, `${prefix}/set/bms_reset`)
    const commands = []
    d.bms.on("command", c => commands.push(c.dataId))
    await w.c.publishAsync(button.command_topic, button.payload_press)
    await d.waitForLine("MQTT: command bms_reset RESET: done", { since: d.bootMark, timeoutMs: 10000 })
    assert.ok(commands.includes(0x00), "the BMS got 0x00 (reset)")
    await w.c.publishAsync(button.command_topic, "PRESS")
    await d.waitForLine(/^MQTT: ignoring smartbms\/[0-9a-f]+\/set\/bms_reset "PRESS"/, { since: d.bootMark, timeoutMs: 10000 })
})

test("the device name falls back to the battery address, then to the device id", async t => {
    const b = await broker(t)
    const w = await watcher(t, b.port)
    const d = await startTestDongle(t, { bms: { cells: 4, temperatureSensors: 2 } })
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("mqtt", { on: true, host: "127.0.0.1", port: b.port, period: 2 })
    await d.writeFirmwareSetting("mqttAuth", { user: USER, pass: PASSWORD })
    await d.writeFirmwareSetting("user", { location: "Boat, aft" })
    await d.settleFlash()
    const since = d.mark()
    await d.reset()
    const id = (await d.waitForLine(/^Device id: /, { since })).slice(11)
    const c = JSON.parse(await w.until(`homeassistant/sensor/smartbms_${id}/voltage/config`))
    assert.equal(c.device.name, "Smart BMS Boat, aft")
})

test("wrong credentials and a stopped broker: clear status, the rest keeps running, recovery when fixed", async t => {
    let accept = false
    const b = await broker(t, 0, { accept: () => accept })
    const { d, prefix } = await mqttDongle(t, b.port)
    await d.waitForLine(/^MQTT: .*; retrying in \d+ s$/, { since: d.bootMark, timeoutMs: 30000 })
    const web = await d.waitForPort(6789)
    // between its tries (2 s, then 4 s, ...) the dongle says "failed"; during a try, "connecting"
    let st
    for (const deadline = Date.now() + 15000; (st = await (await fetch(`http://127.0.0.1:${web}/api/status`)).json()).mqtt.state === "connecting" && Date.now() < deadline; ) await sleep(100)
    assert.equal(st.mqtt.state, "failed")
    assert.equal(st.bms.link, "ok", "polling goes on")
    await d.waitForLine(/^Journal \d+: mqtt_failure since/, { since: d.bootMark, timeoutMs: 10000 })
    accept = true
    await d.waitForLine(/^MQTT: connected to 127\.0\.0\.1:\d+/, { since: d.bootMark, timeoutMs: 30000 })
    // the broker stops, and comes back on the same port
    const port = b.port
    await b.stop()
    const lost = d.mark()
    await d.waitForLine(/^MQTT: .*; retrying in \d+ s$/, { since: lost, timeoutMs: 90000 })
    const again = await broker(t, port)
    const w = await watcher(t, again.port)
    await d.waitForLine(/^MQTT: connected to/, { since: lost, timeoutMs: 60000 })
    assert.equal(await w.until(`${prefix}/status`, v => v === "online"), "online")
})

test("Home Assistant: a Wi-Fi signal entity where the platform reports it (the host's /proc/net/wireless)", async t => {
    const b = await broker(t)
    const w = await watcher(t, b.port)
    const wireless = path.join(tempDir(t, "wireless"), "wireless")
    fs.copyFileSync(new URL("../fixtures/proc-net-wireless.txt", import.meta.url), wireless)
    const { d, prefix, id } = await mqttDongle(t, b.port, {}, { wireless })
    await d.waitForLine('Wi-Fi: station mode, connected to "host-network", IP 127.0.0.1', { since: d.bootMark, timeoutMs: 20000 })
    await d.waitForLine(/^MQTT: Home Assistant discovery: 23 entities$/, { since: d.bootMark, timeoutMs: 30000 })
    const c = JSON.parse(await w.until(`homeassistant/sensor/smartbms_${id}/wifi_rssi/config`))
    assert.equal(c.device_class, "signal_strength")
    assert.equal(c.unit_of_measurement, "dBm")
    assert.equal(c.entity_category, "diagnostic")
    assert.equal(c.state_topic, `${prefix}/wifi_rssi`)
    assert.equal(await w.until(c.state_topic, v => v === "-56", 10000), "-56")
    fs.writeFileSync(wireless, fs.readFileSync(wireless, "utf8").replace("-56.", "-71."))
    assert.equal(await w.until(c.state_topic, v => v === "-71", 20000), "-71")
})

test("Home Assistant: the BMS asleep when the dongle starts: its cells and sensors are announced once it answers", async t => {
    const b = await broker(t)
    const w = await watcher(t, b.port)
    const { d, prefix, id } = await mqttDongle(t, b.port, {}, { bmsAsleep: true })
    await d.waitForLine(/^MQTT: Home Assistant discovery: 16 entities$/, { since: d.bootMark, timeoutMs: 30000 })
    assert.ok(![...w.seen.keys()].some(k => k.includes("/cell_1/")), "no cell entity before the pack was read")
    d.bms.wake()
    await d.waitForLine(/^MQTT: Home Assistant discovery: 22 entities$/, { since: d.bootMark, timeoutMs: 30000 })
    const cell = JSON.parse(await w.until(`homeassistant/sensor/smartbms_${id}/cell_4/config`, () => true, 5000))
    assert.equal(cell.state_topic, `${prefix}/cell/4`)
    await w.until(`homeassistant/sensor/smartbms_${id}/temp_2/config`, () => true, 5000)
    const mv = Number(await w.until(`${prefix}/cell/4`, v => Number(v) > 0, 10000))
    assert.ok(Math.abs(mv - d.bms.model.cellVoltagesMv()[3]) <= 20, `cell 4: ${mv} mV published, the pack's ${d.bms.model.cellVoltagesMv()[3]}`)
})

test("Home Assistant: a unit swapped for one with fewer cells and sensors: their entities and values are removed, not left stale", async t => {
    const b = await broker(t)
    const w = await watcher(t, b.port)
    const { d, prefix, id } = await mqttDongle(t, b.port)
    await d.waitForLine(/^MQTT: Home Assistant discovery: 22 entities$/, { since: d.bootMark, timeoutMs: 30000 })
    await w.until(`${prefix}/cell/4`, v => Number(v) > 0, 10000)
    await w.until(`${prefix}/temp/2`, v => v !== "", 10000)
    const since = d.mark()
    d.swapBms(new VirtualBms({ cells: 2, temperatureSensors: 1, soc: 50 }))
    await d.waitForLine(/^MQTT: Home Assistant discovery: 19 entities$/, { since, timeoutMs: 30000 })
    // an empty retained message removes the entity from Home Assistant and the value from the broker
    for (const topic of [`homeassistant/sensor/smartbms_${id}/cell_3/config`, `homeassistant/sensor/smartbms_${id}/cell_4/config`, `homeassistant/sensor/smartbms_${id}/temp_2/config`, `${prefix}/cell/3`, `${prefix}/cell/4`, `${prefix}/temp/2`])
        assert.equal(await w.until(topic, v => v === "", 10000), "", topic)
    const late = await watcher(t, b.port) // what Home Assistant starting now would find
    await late.until(`homeassistant/sensor/smartbms_${id}/cell_2/config`, () => true, 5000)
    await sleep(500)
    assert.ok(![...late.seen.keys()].some(k => /cell_[34]\/config|temp_2\/config|\/cell\/[34]$|\/temp\/2$/.test(k)), [...late.seen.keys()].join(", "))
})
