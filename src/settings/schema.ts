// Every setting of the dongle: one table with types, ranges and factory defaults, and the
// validation every change goes through (web page, API, MQTT, tests). Pure.
//
// A setting's id is "group.name". Each group is stored as one flash setting (key = group, at most
// 13 characters) holding a JSON object, so a group is always written whole: a reset during a change
// leaves every group either as it was or as it became, never half-written.

import { splitText } from "../platform/text"

export const SCHEMA_VERSION = 3
/** A stored value must fit one Jacdac packet (devicescript-notes.md): keep groups under this. */
export const MAX_STORED_BYTES = 200

export const KIND_STRING = 1
export const KIND_INT = 2
export const KIND_BOOL = 3

/** What characters a string setting may hold. */
export const TEXT_ANY = 0 // printable, no control characters
export const TEXT_HOSTNAME = 1 // a-z 0-9 -
export const TEXT_HOST = 2 // a host name or IPv4 address: a-z A-Z 0-9 . - _
export const TEXT_TIME = 3 // HH:MM
export const TEXT_HASH = 4 // 64 lowercase hex digits (a SHA-256)

export interface FieldSpec {
    id: string
    kind: number
    def: any
    min?: number
    max?: number
    minLength?: number
    maxLength?: number
    text?: number
    /** never sent back to a browser */
    secret?: boolean
    /** passwords: empty, or at least minLength */
    emptyOk?: boolean
    /** values refused besides the range (the web port is never 80) */
    forbidden?: number[]
}

/** The table, as JSON text: a string costs no bytecode (the firmware's code is near DeviceScript's
 * 64 KiB limit), and JSON.parse gives the same objects. One field a line. */
const FIELDS_JSON =
    "[" +
    // Wi-Fi (station mode); no SSID: the dongle starts its access point
    '{"id":"wifi.ssid","kind":1,"def":"","maxLength":32,"text":0},' +
    '{"id":"wifi.pass","kind":1,"def":"","minLength":8,"maxLength":63,"text":0,"secret":true,"emptyOk":true},' +
    '{"id":"wifi.host","kind":1,"def":"smartbms","minLength":1,"maxLength":32,"text":1},' +
    // web pages and API: the SHA-256 of the admin password (web/auth.ts); empty: set on the first setup
    '{"id":"admin.pass","kind":1,"def":"","minLength":64,"maxLength":64,"text":4,"secret":true,"emptyOk":true},' +
    // local services
    '{"id":"ports.web","kind":2,"def":6789,"min":1,"max":65535,"forbidden":[80]},' +
    '{"id":"ports.modbus","kind":2,"def":502,"min":1,"max":65535},' +
    '{"id":"ports.unit","kind":2,"def":1,"min":1,"max":247},' +
    '{"id":"ports.mbWrite","kind":3,"def":false},' +
    '{"id":"ports.pcm","kind":3,"def":true},' +
    '{"id":"ports.pcmPort","kind":2,"def":6790,"min":1,"max":65535},' +
    '{"id":"ports.metrics","kind":3,"def":true},' + // GET /metrics (Prometheus), public read-only
    // MQTT
    '{"id":"mqtt.on","kind":3,"def":false},' +
    '{"id":"mqtt.host","kind":1,"def":"","maxLength":64,"text":2},' +
    '{"id":"mqtt.port","kind":2,"def":1883,"min":1,"max":65535},' +
    '{"id":"mqtt.tls","kind":3,"def":false},' +
    '{"id":"mqtt.period","kind":2,"def":10,"min":1,"max":3600},' +
    '{"id":"mqtt.cmds","kind":3,"def":false},' +
    '{"id":"mqtt.ha","kind":3,"def":true},' +
    '{"id":"mqtt.haPrefix","kind":1,"def":"homeassistant","maxLength":32,"text":0},' +
    '{"id":"mqttAuth.user","kind":1,"def":"","maxLength":32,"text":0},' +
    '{"id":"mqttAuth.pass","kind":1,"def":"","minLength":0,"maxLength":64,"text":0,"secret":true,"emptyOk":true},' +
    '{"id":"mqttAuth.client","kind":1,"def":"","maxLength":32,"text":0},' +
    '{"id":"mqttTopic.prefix","kind":1,"def":"","maxLength":64,"text":0},' + // empty: smartbms/<device id>
    // FTP upload
    '{"id":"ftp.on","kind":3,"def":false},' +
    '{"id":"ftp.host","kind":1,"def":"","maxLength":64,"text":2},' +
    '{"id":"ftp.port","kind":2,"def":21,"min":1,"max":65535},' +
    '{"id":"ftp.period","kind":2,"def":3600,"min":10,"max":86400},' + // seconds
    '{"id":"ftp.cells","kind":3,"def":false},' +
    '{"id":"ftpAuth.user","kind":1,"def":"","maxLength":32,"text":0},' +
    '{"id":"ftpAuth.pass","kind":1,"def":"","minLength":0,"maxLength":64,"text":0,"secret":true,"emptyOk":true},' +
    // SD card logging
    '{"id":"sdlog.on","kind":3,"def":true},' + // on from the first boot (schema 3); installed units keep theirs (store.ts)
    '{"id":"sdlog.period","kind":2,"def":60,"min":1,"max":86400},' + // seconds
    '{"id":"sdlog.cells","kind":3,"def":false},' +
    // periodic reset; days: bit 0 Monday .. bit 6 Sunday
    '{"id":"preset.on","kind":3,"def":false},' +
    '{"id":"preset.max","kind":2,"def":1,"min":1,"max":24},' +
    '{"id":"preset.days","kind":2,"def":127,"min":1,"max":127},' +
    '{"id":"preset.time","kind":1,"def":"03:00","minLength":5,"maxLength":5,"text":3},' +
    // status page history: one point every hist.step seconds, HISTORY_POINTS (144) of them (600 s: 24 h)
    '{"id":"hist.step","kind":2,"def":600,"min":1,"max":3600},' +
    // user settings, written into the log files
    '{"id":"user.serial","kind":1,"def":"","maxLength":32,"text":0},' +
    '{"id":"user.location","kind":1,"def":"","maxLength":64,"text":0},' +
    // BMS options; address 0: detect (0x40, then 0x80)
    '{"id":"bms.addr","kind":2,"def":0,"min":0,"max":128},' +
    '{"id":"bms.invert","kind":3,"def":false}' +
    "]"

export const FIELDS: FieldSpec[] = JSON.parse(FIELDS_JSON)

export function fieldSpec(id: string): FieldSpec {
    for (const f of FIELDS) if (f.id === id) return f
    return null
}

export function groupOf(id: string) {
    return id.slice(0, id.indexOf("."))
}

export function nameOf(id: string) {
    return id.slice(id.indexOf(".") + 1)
}

/** Every group name, in table order. */
export function groups() {
    const r: string[] = []
    for (const f of FIELDS) if (r.indexOf(groupOf(f.id)) < 0) r.push(groupOf(f.id))
    return r
}

/** What a wrong character is told, by text kind (TEXT_ANY ...). */
const TEXT_PROBLEMS = "no control characters|only a-z, 0-9 and -|a host name or IPv4 address|HH:MM|a SHA-256 in hex"

function charOk(c: number, text: number) {
    const lower = c >= 97 && c <= 122
    const digit = c >= 48 && c <= 57
    if (text === TEXT_HOSTNAME) return lower || digit || c === 45
    if (text === TEXT_HOST) return lower || digit || (c >= 65 && c <= 90) || c === 45 || c === 46 || c === 95
    if (text === TEXT_TIME) return digit || c === 58
    if (text === TEXT_HASH) return digit || (c >= 97 && c <= 102)
    return c >= 32 && c !== 127
}

/** null when `value` is acceptable for the field, else what is wrong with it. */
export function validateValue(f: FieldSpec, value: any): string {
    if (f.kind === KIND_BOOL) return typeof value === "boolean" ? null : "must be true or false"
    if (f.kind === KIND_INT) {
        if (typeof value !== "number" || Math.round(value) !== value) return "must be a whole number"
        if (value < f.min || value > f.max) return `must be from ${f.min} to ${f.max}`
        if (f.forbidden && f.forbidden.indexOf(value) >= 0) return `${value} is not allowed`
        if (f.id === "bms.addr" && value !== 0 && value !== 0x40 && value !== 0x80) return "must be 0 (detect), 64 (0x40) or 128 (0x80)"
        return null
    }
    if (typeof value !== "string") return "must be text"
    const s = value as string
    if (s.length > f.maxLength) return `at most ${f.maxLength} characters`
    if (f.minLength && s.length < f.minLength && !(f.emptyOk && s.length === 0))
        return f.emptyOk ? `empty or at least ${f.minLength} characters` : `at least ${f.minLength} characters`
    for (let i = 0; i < s.length; i++)
        if (!charOk(s.charCodeAt(i), f.text)) return splitText(TEXT_PROBLEMS, "|")[f.text]
    if (f.text === TEXT_HOSTNAME && (s.charCodeAt(0) === 45 || s.charCodeAt(s.length - 1) === 45)) return "cannot start or end with -"
    if (f.text === TEXT_TIME) {
        const h = parseInt(s.slice(0, 2))
        const m = parseInt(s.slice(3, 5))
        if (s.charCodeAt(2) !== 58 || !(h >= 0 && h <= 23) || !(m >= 0 && m <= 59)) return "HH:MM, 00:00 to 23:59"
    }
    return null
}

/** The factory defaults, by id. */
export function defaults() {
    const r: Record<string, any> = {}
    for (const f of FIELDS) r[f.id] = f.def
    return r
}
