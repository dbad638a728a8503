// The MQTT uplink on the stock DeviceScript socket (the only thing using it; every other network
// feature is on the stream-socket contract), through our own small client (client.ts). Availability retained with a last will, the link state,
// the state JSON and one topic per value at the period and on link changes, Home Assistant discovery,
// commands only when enabled. Reconnects with exponential backoff and jitter; nothing is queued
// while offline (the next state after reconnecting is the current one), so memory stays bounded.
import * as ds from "@devicescript/core"
import { MqttConnection } from "./client"
import { BmsPoller } from "../bms/poller"
import { BmsSnapshot } from "../bms/snapshot"
import { bmsLink, currentSnapshot, lastSnapshot, linkChanged, pollingPaused } from "../bms/store"
import { FIRMWARE_VERSION } from "../firmware"
import { wallClock } from "../platform/clock"
import { networkState, wifiSignalDbm } from "../net/wifi"
import { sdStatus } from "../sdlog/logger"
import { ftpStatus } from "../ftp/uploader"
import { startTask } from "../platform/tasks"
import { setting } from "../settings/store"
import { bmsJsonText } from "../web/status"
import { defaultPrefix, discoveryEntities, discoveryMessage, parseCommand, valueMessages } from "./topics"

export const FIRST_BACKOFF_MS = 2000
export const MAX_BACKOFF_MS = 300000
export const CONNECT_TIMEOUT_MS = 10000

export interface MqttStatus {
    state: string // "off", "connecting", "connected", "failed"
    lastError: string
    published: number
}

export const mqttStatus: MqttStatus = { state: "off", lastError: "", published: 0 }
/** true while the broker cannot be reached (for the errors journal). */
export const mqttFailureChanged = ds.emitter<boolean>()

async function publishAll(client: MqttConnection, prefix: string) {
    // the state before the link: a subscriber woken by a link change finds the state that goes with it
    const link = bmsLink
    const s = currentSnapshot()
    await client.publish(`${prefix}/state`, bmsJsonText(link, pollingPaused, s, ds.millis()), true)
    await client.publish(`${prefix}/link`, pollingPaused ? "paused_for_pcmaster" : link, true)
    // the diagnostic entities of Home Assistant discovery, then the values of a current snapshot
    const m = [`uptime|${Math.floor(ds.millis() / 1000)}`, `sd|${sdStatus.state}`, `ftp_last_upload|${ftpStatus.lastSuccess || "never"}`]
    const rssi = await wifiSignalDbm()
    if (rssi !== null) m.push(`wifi_rssi|${rssi}`)
    if (s) valueMessages(s, m)
    for (const v of m) await client.publish(`${prefix}/${v.slice(0, v.indexOf("|"))}`, v.slice(v.indexOf("|") + 1), true)
    mqttStatus.published++
}

/** `old`: the pack shape announced before (packShape) */
async function publishDiscovery(client: MqttConnection, prefix: string, old: number) {
    const s = lastSnapshot
    const id = ds.deviceIdentifier("self")
    const serial = setting("user.serial") as string
    const dev = {
        id, firmware: FIRMWARE_VERSION, serial,
        name: `Smart BMS ${serial || setting("user.location") || id.slice(-4)}`,
        url: `http://${networkState().ip}:${setting("ports.web")}/`, // connected to the broker: the network is up
    }
    const cells = s ? s.cellsMv.length : 0
    const temps = s ? s.tempsC.length : 0
    const entities = discoveryEntities(cells, temps, setting("mqtt.cmds"), (await wifiSignalDbm()) !== null)
    for (const e of entities) {
        const m = discoveryMessage(setting("mqtt.haPrefix"), prefix, dev, e)
        await client.publish(m.topic, m.payload, true)
    }
    // a unit with fewer cells or sensors than the one before (swapped): what it lacks is removed (an
    // empty retained config and value), never left showing the old pack's last values
    for (let k = 0; k < 2; k++) {
        const name = k ? "temp" : "cell"
        for (let i = (k ? temps : cells) + 1; i <= (k ? old % 100 : old / 100); i++) {
            await client.publish(`${setting("mqtt.haPrefix")}/sensor/smartbms_${id}/${name}_${i}/config`, "", true)
            await client.publish(`${prefix}/${name}/${i}`, "", true)
        }
    }
    console.log(`MQTT: Home Assistant discovery: ${entities.length} entities`)
    return packShape(s)
}

/** What the discovery's entities depend on in the pack: cells and temperature sensors (0: not read yet). */
function packShape(s: BmsSnapshot) {
    return s ? s.cellsMv.length * 100 + s.tempsC.length : 0
}

async function onCommand(poller: BmsPoller, prefix: string, topic: string, content: Buffer) {
    const payload = content.toString()
    const c = parseCommand(prefix, topic, payload)
    if (!c) {
        console.log(`MQTT: ignoring ${topic} "${payload}" (commands: set/charge_mos ON|OFF, set/discharge_mos ON|OFF, set/soc 0-100, set/bms_reset RESET)`)
        return
    }
    let ok = false
    if (c.what === "bms_reset") ok = await poller.resetBms()
    else if (c.what === "charge_mos" || c.what === "discharge_mos") ok = await poller.setSwitch(c.what === "charge_mos" ? "chg" : "dsg", c.on)
    else {
        const clock = await wallClock()
        ok = !!clock && (await poller.setSoc(c.soc, clock))
    }
    console.log(`MQTT: command ${c.what} ${payload}: ${ok ? "done" : "not confirmed by the BMS"}`)
}

/** One connection: returns when it is lost. Throws when it cannot be made. */
async function session(poller: BmsPoller, prefix: string) {
    const client = new MqttConnection()
    mqttStatus.state = "connecting"
    await client.open({
        host: setting("mqtt.host"),
        port: setting("mqtt.port"),
        tls: setting("mqtt.tls"),
        user: setting("mqttAuth.user"),
        pass: setting("mqttAuth.pass"),
        clientId: setting("mqttAuth.client") || `smartbms-${ds.deviceIdentifier("self")}`,
        timeoutMs: CONNECT_TIMEOUT_MS,
        willTopic: `${prefix}/status`,
    })
    try {
        console.log(`MQTT: connected to ${setting("mqtt.host")}:${setting("mqtt.port")} as ${prefix}`)
        mqttStatus.state = "connected"
        if (mqttStatus.lastError) mqttFailureChanged.emit(false)
        mqttStatus.lastError = ""
        await client.publish(`${prefix}/status`, "online", true)
        let shape = setting("mqtt.ha") ? await publishDiscovery(client, prefix, 0) : -1
        if (setting("mqtt.cmds")) await client.subscribe(`${prefix}/set/#`, async (topic: string, m: Buffer) => await onCommand(poller, prefix, topic, m))
        const periodMs = (setting("mqtt.period") as number) * 1000
        while (client.connected) {
            // the pack read for the first time (the BMS asleep when the dongle started: no cell
            // entities yet) or another pack: its entities are announced again
            if (shape >= 0 && lastSnapshot && packShape(lastSnapshot) !== shape) shape = await publishDiscovery(client, prefix, shape)
            await publishAll(client, prefix)
            await ds.wait(linkChanged, periodMs) // the period, or at once when the link changes
        }
    } finally {
        await client.close("connection lost")
    }
    throw new Error(client.error)
}

export function startMqtt(poller: BmsPoller) {
    if (!setting("mqtt.on")) return
    if (!setting("mqtt.host")) {
        console.log("MQTT: on, but no broker host is set")
        return
    }
    const prefix = (setting("mqttTopic.prefix") as string) || defaultPrefix(ds.deviceIdentifier("self"))
    startTask("MQTT", async () => {
        let backoff = FIRST_BACKOFF_MS
        for (;;) {
            const started = ds.millis()
            try {
                await session(poller, prefix)
            } catch (e) {
                const msg = (e as Error).message
                if (ds.millis() - started > 60000) backoff = FIRST_BACKOFF_MS // it had been up a while
                const wait = Math.round(backoff * (0.8 + 0.4 * Math.random())) // jitter: brokers are not hit in step
                console.log(`MQTT: ${msg}; retrying in ${Math.round(wait / 1000)} s`)
                if (!mqttStatus.lastError) mqttFailureChanged.emit(true)
                mqttStatus.state = "failed"
                mqttStatus.lastError = msg
                await ds.sleep(wait)
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2)
            }
        }
    })
}
