// MQTT topics and payloads (docs/mqtt.md): availability, link state, one JSON state message with the
// field names of /api/status's `bms`, one topic per main value, and Home Assistant discovery. Pure.
import { BmsSnapshot } from "../bms/snapshot"
import { fixed } from "../console/format"

export interface Message {
    topic: string
    payload: string
    retain: boolean
}

export function defaultPrefix(deviceId: string) {
    return `smartbms/${deviceId}`
}

/** The per-value topics of a snapshot (retained: a dashboard shows the last value at once). */
export function valueMessages(prefix: string, s: BmsSnapshot): Message[] {
    const m: Message[] = []
    const put = (name: string, value: string) => m.push({ topic: `${prefix}/${name}`, payload: value, retain: true })
    put("voltage", fixed(s.voltageV, 1))
    put("current", fixed(s.currentA, 1))
    put("power", fixed(s.powerW, 0))
    put("soc", fixed(s.socPct, 1))
    put("remaining", fixed(s.remainingAh, 3))
    put("cycles", "" + s.cycles)
    put("cell_min", "" + s.cellMinMv)
    put("cell_max", "" + s.cellMaxMv)
    put("cell_delta", "" + s.cellDeltaMv)
    for (let i = 0; i < s.cellsMv.length; i++) put(`cell/${i + 1}`, "" + s.cellsMv[i])
    for (let i = 0; i < s.tempsC.length; i++) put(`temp/${i + 1}`, "" + s.tempsC[i])
    put("charge_mos", s.chargeMos ? "ON" : "OFF")
    put("discharge_mos", s.dischargeMos ? "ON" : "OFF")
    put("alarms", s.alarms.length ? s.alarms.join(",") : "none")
    return m
}

export interface DeviceBlock {
    id: string
    firmware: string
    serial: string
}

interface SensorDef {
    key: string
    name: string
    topic: string
    unit?: string
    deviceClass?: string
    stateClass?: string
    component: string
    command?: string
}

/** Everything Home Assistant is told about, for `cells` cells and `temps` sensors. */
export function discoveryEntities(cells: number, temps: number, commands: boolean): SensorDef[] {
    const d: SensorDef[] = [
        { key: "voltage", name: "Pack voltage", topic: "voltage", unit: "V", deviceClass: "voltage", stateClass: "measurement", component: "sensor" },
        { key: "current", name: "Current", topic: "current", unit: "A", deviceClass: "current", stateClass: "measurement", component: "sensor" },
        { key: "power", name: "Power", topic: "power", unit: "W", deviceClass: "power", stateClass: "measurement", component: "sensor" },
        { key: "soc", name: "State of charge", topic: "soc", unit: "%", deviceClass: "battery", stateClass: "measurement", component: "sensor" },
        { key: "remaining", name: "Remaining capacity", topic: "remaining", unit: "Ah", stateClass: "measurement", component: "sensor" },
        { key: "cycles", name: "Cycles", topic: "cycles", stateClass: "total_increasing", component: "sensor" },
        { key: "cell_min", name: "Lowest cell", topic: "cell_min", unit: "mV", deviceClass: "voltage", stateClass: "measurement", component: "sensor" },
        { key: "cell_max", name: "Highest cell", topic: "cell_max", unit: "mV", deviceClass: "voltage", stateClass: "measurement", component: "sensor" },
        { key: "cell_delta", name: "Cell difference", topic: "cell_delta", unit: "mV", deviceClass: "voltage", stateClass: "measurement", component: "sensor" },
        { key: "alarms", name: "Alarms", topic: "alarms", component: "sensor" },
        { key: "link", name: "BMS link", topic: "link", component: "sensor" },
    ]
    for (let i = 1; i <= cells; i++)
        d.push({ key: `cell_${i}`, name: `Cell ${i}`, topic: `cell/${i}`, unit: "mV", deviceClass: "voltage", stateClass: "measurement", component: "sensor" })
    for (let i = 1; i <= temps; i++)
        d.push({ key: `temp_${i}`, name: `Temperature ${i}`, topic: `temp/${i}`, unit: "°C", deviceClass: "temperature", stateClass: "measurement", component: "sensor" })
    for (const mos of ["charge_mos", "discharge_mos"])
        d.push({
            key: mos, name: mos === "charge_mos" ? "Charge MOS" : "Discharge MOS", topic: mos,
            component: commands ? "switch" : "binary_sensor", command: commands ? `set/${mos}` : undefined,
        })
    return d
}

/** The retained discovery config message of one entity. */
export function discoveryMessage(haPrefix: string, prefix: string, dev: DeviceBlock, e: SensorDef): Message {
    const uid = `smartbms_${dev.id}_${e.key}`
    const c: Record<string, any> = {
        name: e.name,
        unique_id: uid,
        object_id: uid,
        state_topic: `${prefix}/${e.topic}`,
        availability_topic: `${prefix}/status`,
        device: { identifiers: [`smartbms_${dev.id}`], name: "Smart BMS", model: "Smart BMS Wi-Fi dongle (Daly)", manufacturer: "smartbms-dongle", sw_version: dev.firmware, serial_number: dev.serial || dev.id },
    }
    if (e.unit) c["unit_of_measurement"] = e.unit
    if (e.deviceClass) c["device_class"] = e.deviceClass
    if (e.stateClass) c["state_class"] = e.stateClass
    if (e.component !== "sensor") {
        c["payload_on"] = "ON"
        c["payload_off"] = "OFF"
    }
    if (e.command) c["command_topic"] = `${prefix}/${e.command}`
    return { topic: `${haPrefix}/${e.component}/smartbms_${dev.id}/${e.key}/config`, payload: JSON.stringify(c), retain: true }
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
    if (what === "soc") {
        const soc = parseFloat(payload)
        if (!(soc >= 0 && soc <= 100)) return null
        return { what, on: false, soc }
    }
    return null
}
