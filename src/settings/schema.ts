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

/**
 * The table, one field a line: id | kind | default | min | max | minLength | maxLength | text |
 * flags (s: a secret, empty or minLength; f80: 80 forbidden). A string costs no bytecode (the firmware
 * is near DeviceScript's 64 KiB code limit), and objects built with the keys in code cost half the
 * heap of JSON.parse's (measured: 4 KB instead of 8 KB).
 */
const FIELDS_TEXT =
    // Wi-Fi (station mode); no SSID: the dongle starts its access point
    "wifi.ssid|1|||||32\n" +
    "wifi.pass|1||||8|63||s\n" +
    "wifi.host|1|smartbms|||1|32|1\n" +
    // web pages and API: the SHA-256 of the admin password (web/auth.ts); empty: set on the first setup
    "admin.pass|1||||64|64|4|s\n" +
    // local services
    "ports.web|2|6789|1|65535||||f80\n" +
    "ports.modbus|2|502|1|65535\n" +
    "ports.unit|2|1|1|247\n" +
    "ports.mbWrite|3|0\n" +
    "ports.pcm|3|1\n" +
    "ports.pcmPort|2|6790|1|65535\n" +
    "ports.metrics|3|1\n" + // GET /metrics (Prometheus), public read-only
    // MQTT
    "mqtt.on|3|0\n" +
    "mqtt.host|1|||||64|2\n" +
    "mqtt.port|2|1883|1|65535\n" +
    "mqtt.tls|3|0\n" +
    "mqtt.period|2|10|1|3600\n" +
    "mqtt.cmds|3|0\n" +
    "mqtt.ha|3|1\n" +
    "mqtt.haPrefix|1|homeassistant||||32\n" +
    "mqttAuth.user|1|||||32\n" +
    "mqttAuth.pass|1|||||64||s\n" +
    "mqttAuth.client|1|||||32\n" +
    "mqttTopic.prefix|1|||||64\n" + // empty: smartbms/<device id>
    // FTP upload
    "ftp.on|3|0\n" +
    "ftp.host|1|||||64|2\n" +
    "ftp.port|2|21|1|65535\n" +
    "ftp.period|2|3600|10|86400\n" + // seconds
    "ftp.cells|3|0\n" +
    "ftpAuth.user|1|||||32\n" +
    "ftpAuth.pass|1|||||64||s\n" +
    // SD card logging
    "sdlog.on|3|1\n" + // on from the first boot (schema 3); installed units keep theirs (store.ts)
    "sdlog.period|2|60|1|86400\n" + // seconds
    "sdlog.cells|3|0\n" +
    // periodic reset; days: bit 0 Monday .. bit 6 Sunday
    "preset.on|3|0\n" +
    "preset.max|2|1|1|24\n" +
    "preset.days|2|127|1|127\n" +
    "preset.time|1|03:00|||5|5|3\n" +
    // status page history: one point every hist.step seconds, HISTORY_POINTS (144) of them (600 s: 24 h)
    "hist.step|2|600|1|3600\n" +
    // user settings, written into the log files
    "user.serial|1|||||32\n" +
    "user.location|1|||||64\n" +
    // BMS options; address 0: detect (0x40, then 0x80)
    "bms.addr|2|0|0|128\n" +
    "bms.invert|3|0"

/** The numeric columns of FIELDS_TEXT from the fourth on. */
const NUMBER_KEYS = ["min", "max", "minLength", "maxLength", "text"]

function field(line: string): FieldSpec {
    const p = splitText(line, "|")
    const kind = parseInt(p[1])
    const f: any = { id: p[0], kind, def: kind === KIND_STRING ? p[2] || "" : kind === KIND_BOOL ? p[2] === "1" : parseInt(p[2]) }
    for (let k = 0; k < 5; k++) if (p[k + 3]) f[NUMBER_KEYS[k]] = parseInt(p[k + 3]) // absent: no key (heap)
    if (p[8] === "s") f.secret = f.emptyOk = true
    if (p[8] === "f80") f.forbidden = [80]
    return f
}

export const FIELDS: FieldSpec[] = splitText(FIELDS_TEXT, "\n").map(field)

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
        if (!charOk(s.charCodeAt(i), f.text)) return splitText(TEXT_PROBLEMS, "|")[f.text || 0]
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
