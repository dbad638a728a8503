// MQTT topics and payloads (docs/mqtt.md): availability, link state, one JSON state message with the
// field names of /api/status's `bms`, one topic per main value, and Home Assistant discovery. Pure.
import { BmsSnapshot } from "../bms/snapshot"
import { fixed } from "../console/format"
import { splitText } from "../platform/text"

export interface Message {
    topic: string
    payload: string
    retain: boolean
}

export function defaultPrefix(deviceId: string) {
    return `smartbms/${deviceId}`
}

/** Per-value topics: topic | snapshot field | decimals (a table: code is scarce). */
const VALUES = "voltage|voltageV|1,current|currentA|1,power|powerW|0,soc|socPct|1,remaining|remainingAh|3,cycles|cycles|0,cell_min|cellMinMv|0,cell_max|cellMaxMv|0,cell_delta|cellDeltaMv|0"

/**
 * The per-value topics of a snapshot as "topic|payload" (the topic after the prefix), added to `m`;
 * published retained: a dashboard shows the last value at once.
 */
export function valueMessages(s: BmsSnapshot, m: string[]) {
    const snap = s as any
    for (const e of splitText(VALUES, ",")) {
        const f = splitText(e, "|")
        m.push(`${f[0]}|${fixed(snap[f[1]], parseInt(f[2]))}`)
    }
    for (let i = 0; i < s.cellsMv.length; i++) m.push(`cell/${i + 1}|${s.cellsMv[i]}`)
    for (let i = 0; i < s.tempsC.length; i++) m.push(`temp/${i + 1}|${s.tempsC[i]}`)
    m.push(`charge_mos|${s.chargeMos ? "ON" : "OFF"}`)
    m.push(`discharge_mos|${s.dischargeMos ? "ON" : "OFF"}`)
    m.push(`alarms|${s.alarms.length ? s.alarms.join(",") : "none"}`)
}

export interface DeviceBlock {
    id: string
    firmware: string
    serial: string
    /** what tells this dongle apart in Home Assistant: the battery serial, else its address, else the id */
    name: string
    /** the dongle's page */
    url: string
}

/**
 * What Home Assistant is told about, one entity a line (a table: the firmware's code is near
 * DeviceScript's 64 KiB limit): key | name | state topic | unit | device class | state class |
 * component | entity category | command topic | JSON of what only some components have.
 */
const ENTITIES =
    "voltage|Pack voltage|voltage|V|voltage|measurement|sensor\n" +
    "current|Current|current|A|current|measurement|sensor\n" +
    "power|Power|power|W|power|measurement|sensor\n" +
    "soc|State of charge|soc|%|battery|measurement|sensor\n" +
    "remaining|Remaining capacity|remaining|Ah||measurement|sensor\n" +
    "cycles|Cycles|cycles|||total_increasing|sensor\n" +
    "cell_min|Lowest cell|cell_min|mV|voltage|measurement|sensor\n" +
    "cell_max|Highest cell|cell_max|mV|voltage|measurement|sensor\n" +
    "cell_delta|Cell difference|cell_delta|mV|voltage|measurement|sensor\n" +
    "alarms|Alarms|alarms||||sensor\n" +
    "link|BMS link|link||||sensor|diagnostic\n" +
    "uptime|Uptime|uptime|s|duration|measurement|sensor|diagnostic\n" +
    "sd|SD card|sd||||sensor|diagnostic\n" +
    "ftp_last_upload|Last FTP upload|ftp_last_upload||||sensor|diagnostic"
const COMMAND_ENTITIES =
    'soc_set|Set state of charge|soc|%|battery||number||set/soc|{"min":0,"max":100,"step":0.1,"mode":"box"}\n' +
    'bms_reset|BMS reset|||||button||set/bms_reset|{"payload_press":"RESET"}'

/** Every entity line for `cells` cells and `temps` sensors. */
export function discoveryEntities(cells: number, temps: number, commands: boolean, wifiSignal: boolean): string[] {
    const d = splitText(ENTITIES, "\n")
    for (let i = 1; i <= cells; i++) d.push(`cell_${i}|Cell ${i}|cell/${i}|mV|voltage|measurement|sensor`)
    for (let i = 1; i <= temps; i++) d.push(`temp_${i}|Temperature ${i}|temp/${i}|°C|temperature|measurement|sensor`)
    for (const mos of ["charge_mos", "discharge_mos"])
        d.push(`${mos}|${mos === "charge_mos" ? "Charge" : "Discharge"} MOS|${mos}||||${commands ? `switch||set/${mos}` : "binary_sensor||"}|{"payload_on":"ON","payload_off":"OFF"}`)
    if (commands) for (const c of splitText(COMMAND_ENTITIES, "\n")) d.push(c)
    if (wifiSignal) d.push("wifi_rssi|Wi-Fi signal|wifi_rssi|dBm|signal_strength|measurement|sensor|diagnostic")
    return d
}

/** The retained discovery config message of one entity line. */
export function discoveryMessage(haPrefix: string, prefix: string, dev: DeviceBlock, line: string): Message {
    const e = splitText(line, "|")
    const component = e[6]
    const uid = `smartbms_${dev.id}_${e[0]}`
    const c: Record<string, any> = {
        name: e[1],
        unique_id: uid,
        object_id: uid,
        availability_topic: `${prefix}/status`,
        device: {
            identifiers: [`smartbms_${dev.id}`], name: dev.name, model: "Smart BMS Wi-Fi dongle (Daly)", manufacturer: "smartbms-dongle",
            sw_version: dev.firmware, serial_number: dev.serial || dev.id, configuration_url: dev.url,
        },
    }
    const keys = ["", "", "state_topic", "unit_of_measurement", "device_class", "state_class", "", "entity_category", "command_topic"]
    for (let i = 2; i < 9; i++) if (keys[i] && e[i]) c[keys[i]] = i === 2 || i === 8 ? `${prefix}/${e[i]}` : e[i]
    if (e[9]) {
        const more = JSON.parse(e[9]) // what only some components have
        for (const k of Object.keys(more)) c[k] = more[k]
    }
    return { topic: `${haPrefix}/${component}/smartbms_${dev.id}/${e[0]}/config`, payload: JSON.stringify(c), retain: true }
}

/** A command: null when it is not one of the accepted commands or its payload is wrong. */
export function parseCommand(prefix: string, topic: string, payload: string) {
    const p = `${prefix}/set/`
    if (topic.indexOf(p) !== 0) return null
    const what = topic.slice(p.length)
    if (what === "charge_mos" || what === "discharge_mos") {
        if (payload !== "ON" && payload !== "OFF") return null
        return { what, on: payload === "ON", soc: 0 }
    }
    if (what === "bms_reset") return payload === "RESET" ? { what, on: false, soc: 0 } : null
    if (what === "soc") {
        const soc = parseFloat(payload)
        if (!(soc >= 0 && soc <= 100)) return null
        return { what, on: false, soc }
    }
    return null
}
