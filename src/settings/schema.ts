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

/** The FieldSpec keys, in the order of the columns of SCHEMA_TABLE (web/app.js has the same list). */
const KEYS = ["id", "kind", "def", "min", "max", "minLength", "maxLength", "text", "secret", "emptyOk", "forbidden"]

/**
 * Every setting, one row each (KEYS order; null: not set): a table in a string, made into FieldSpec
 * objects once (strings cost no bytecode: devicescript-notes.md). Groups: Wi-Fi (station mode; no
 * SSID: access point), admin (SHA-256 of the admin password, web/auth.ts; empty: set on the first
 * setup), ports (local services), mqtt/mqttAuth/mqttTopic (empty prefix: smartbms/<device id>),
 * ftp/ftpAuth (period in seconds), sdlog (period in seconds; on from the first boot since schema 3,
 * installed schema-2 units keep theirs: store.ts), ports.metrics (GET /metrics), hist (one history
 * point every step seconds, 96 kept: 900 s = 24 h), preset (periodic reset; days: bit 0
 * Monday .. bit 6 Sunday), user (written into the log files), bms (addr: the 0xA5 address of the
 * first settings version, 0 detect; proto: what answered last, protocol << 8 | request address,
 * protocols 1 0xA5, 2 D2, 3 0x81+board, 0 unknown; force: the only protocol tried, 0 detect; board:
 * board number of the 0x81 scheme). kind: KIND_*; text: TEXT_*.
 */
export const SCHEMA_TABLE = `[
 ["wifi.ssid",1,"",null,null,null,32,0],
 ["wifi.pass",1,"",null,null,8,63,0,true,true],
 ["wifi.host",1,"smartbms",null,null,1,32,1],
 ["admin.pass",1,"",null,null,64,64,4,true,true],
 ["ports.web",2,6789,1,65535,null,null,null,null,null,[80]],
 ["ports.modbus",2,502,1,65535],
 ["ports.unit",2,1,1,247],
 ["ports.mbWrite",3,false],
 ["ports.pcm",3,true],
 ["ports.pcmPort",2,6790,1,65535],
 ["ports.metrics",3,true],
 ["mqtt.on",3,false],
 ["mqtt.host",1,"",null,null,null,64,2],
 ["mqtt.port",2,1883,1,65535],
 ["mqtt.tls",3,false],
 ["mqtt.period",2,10,1,3600],
 ["mqtt.cmds",3,false],
 ["mqtt.ha",3,true],
 ["mqtt.haPrefix",1,"homeassistant",null,null,null,32,0],
 ["mqttAuth.user",1,"",null,null,null,32,0],
 ["mqttAuth.pass",1,"",null,null,0,64,0,true,true],
 ["mqttAuth.client",1,"",null,null,null,32,0],
 ["mqttTopic.prefix",1,"",null,null,null,64,0],
 ["ftp.on",3,false],
 ["ftp.host",1,"",null,null,null,64,2],
 ["ftp.port",2,21,1,65535],
 ["ftp.period",2,3600,10,86400],
 ["ftp.cells",3,false],
 ["ftpAuth.user",1,"",null,null,null,32,0],
 ["ftpAuth.pass",1,"",null,null,0,64,0,true,true],
 ["sdlog.on",3,true],
 ["sdlog.period",2,60,1,86400],
 ["sdlog.cells",3,false],
 ["preset.on",3,false],
 ["preset.max",2,1,1,24],
 ["preset.days",2,127,1,127],
 ["preset.time",1,"03:00",null,null,5,5,3],
 ["hist.step",2,900,1,3600],
 ["user.serial",1,"",null,null,null,32,0],
 ["user.location",1,"",null,null,null,64,0],
 ["bms.addr",2,0,0,128],
 ["bms.invert",3,false],
 ["bms.proto",2,0,0,1023],
 ["bms.force",2,0,0,3],
 ["bms.board",2,1,1,16]
]`

function toSpec(row: any[]): FieldSpec {
    const f: any = {}
    for (let k = 0; k < row.length; k++) if (row[k] !== null) f[KEYS[k]] = row[k]
    return f
}

/**
 * Every setting, made from the table at each call and dropped after use: kept, the table's objects
 * held about 6.5 KB of the 64 KB heap for good (docs/devicescript-traps.md).
 */
export function fields(): FieldSpec[] {
    return JSON.parse(SCHEMA_TABLE).map(toSpec)
}

/** One setting's spec (its row alone is parsed), or null. */
export function fieldSpec(id: string): FieldSpec {
    const at = SCHEMA_TABLE.indexOf(`["${id}",`)
    if (at < 0) return null
    const row = SCHEMA_TABLE.slice(at, SCHEMA_TABLE.indexOf("\n", at)) // a row is a line; all but the last end with ","
    return toSpec(JSON.parse(row[row.length - 1] === "," ? row.slice(0, -1) : row))
}

export function groupOf(id: string) {
    return id.slice(0, id.indexOf("."))
}

export function nameOf(id: string) {
    return id.slice(id.indexOf(".") + 1)
}

/** Every group name, in table order. */
export function groups(all: FieldSpec[]) {
    const r: string[] = []
    for (const f of all) if (r.indexOf(groupOf(f.id)) < 0) r.push(groupOf(f.id))
    return r
}

/** What a wrong character is told, by text kind (TEXT_ANY ...). */
const TEXT_PROBLEMS = "no control characters|only a-z, 0-9 and -|a host name or IPv4 address|HH:MM|a SHA-256 in hex"

/** The characters each text kind allows, by TEXT_* (TEXT_ANY: any printable, checked apart). */
const ALLOWED =
    "|abcdefghijklmnopqrstuvwxyz0123456789-|abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._|0123456789:|0123456789abcdef"

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
    const allowed = splitText(ALLOWED, "|")[f.text || 0]
    for (let i = 0; i < s.length; i++)
        if (f.text ? allowed.indexOf(s.charAt(i)) < 0 : s.charCodeAt(i) < 32 || s.charCodeAt(i) === 127) return splitText(TEXT_PROBLEMS, "|")[f.text || 0]
    if (f.text === TEXT_HOSTNAME && (s.charCodeAt(0) === 45 || s.charCodeAt(s.length - 1) === 45)) return "cannot start or end with -"
    if (f.text === TEXT_TIME) {
        const h = parseInt(s.slice(0, 2))
        const m = parseInt(s.slice(3, 5))
        if (s.charCodeAt(2) !== 58 || !(h >= 0 && h <= 23) || !(m >= 0 && m <= 59)) return "HH:MM, 00:00 to 23:59"
    }
    return null
}

/** The factory defaults, by id. */
export function defaults(all: FieldSpec[]) {
    const r: Record<string, any> = {}
    for (const f of all) r[f.id] = f.def
    return r
}
