// The settings in flash: loaded and validated at boot (a corrupted or invalid stored value falls back
// to its factory default with a console warning), changed only through updateSettings (validated,
// all or nothing per group), wiped by factoryReset. Migrates older schema versions.
import * as ds from "@devicescript/core"
import { settings, readSetting, writeSetting, deleteSetting } from "@devicescript/settings"
import { FieldSpec, fields, MAX_STORED_BYTES, SCHEMA_VERSION, defaults, fieldSpec, groupOf, groups, nameOf, validateValue } from "./schema"

export const VERSION_KEY = "cfgVersion"
/** Keys of schema version 1 (the first BMS firmware), moved into groups by the migration. */
const V1_BMS_ADDRESS = "bmsAddress"
const V1_BMS_INVERT = "bmsInvertCur"
const V1_BOOTS = "boots"

let values: Record<string, any> = defaults(fields())
/** Emitted with the ids of the settings that changed. */
export const settingsChanged = ds.emitter<string[]>()

interface Stored {
    present: boolean
    corrupt: boolean
    value: any
}

/** Reads one flash setting, telling missing from corrupted (readSetting cannot). */
export async function readStored(key: string): Promise<Stored> {
    const pkt = await ds.actionReport(settings, "get", async () => await settings.get(key), (p: ds.Packet) => p.decode()[0] === key)
    const b: Buffer = pkt.decode()[1]
    if (!b || !b.length) return { present: false, corrupt: false, value: undefined }
    try {
        return { present: true, corrupt: false, value: JSON.parse(b.toString()) }
    } catch (e) {
        return { present: true, corrupt: true, value: undefined }
    }
}

async function migrate() {
    const v = await readStored(VERSION_KEY)
    let version = v.present && !v.corrupt && typeof v.value === "number" ? v.value : 1
    if (version === SCHEMA_VERSION) return
    if (version > SCHEMA_VERSION) {
        console.warn(`settings: schema version ${version} is newer than this firmware's ${SCHEMA_VERSION}; unknown fields ignored`)
        return
    }
    if (version === 1) {
        // v1 kept the BMS options in two keys of their own and counted boots
        const addr = await readStored(V1_BMS_ADDRESS)
        const invert = await readStored(V1_BMS_INVERT)
        if (addr.present || invert.present) {
            const bms: Record<string, any> = {}
            if (addr.present && !addr.corrupt) bms["addr"] = addr.value
            if (invert.present && !invert.corrupt) bms["invert"] = invert.value
            await writeSetting("bms", bms)
            console.log(`settings: migrated the BMS options from schema version 1`)
        }
        version = 3 // straight to 3: schema 1 had no SD logging, so its units take the new default
        await writeSetting(VERSION_KEY, version)
        // the old keys go last: a reset before this point repeats the migration harmlessly
        await deleteSetting(V1_BMS_ADDRESS)
        await deleteSetting(V1_BMS_INVERT)
        await deleteSetting(V1_BOOTS)
    }
    if (version === 2) {
        // schema 3 turned SD logging on by default. Defaults are not stored, so an installed unit that
        // never turned it on would start logging after the update: it keeps "off" written out instead.
        const sd = await readStored("sdlog")
        const o: Record<string, any> = sd.present && !sd.corrupt && typeof sd.value === "object" && sd.value ? sd.value : {}
        if (o["on"] === undefined) {
            o["on"] = false
            await writeSetting("sdlog", o)
        }
        version = 3
        await writeSetting(VERSION_KEY, version)
    }
}

/** Loads every setting; never throws on bad stored data. */
export async function loadSettings() {
    await migrate()
    // the table made once for the whole load: made per group, it ran the VM's time slice out
    // (InfiniteLoop), and defaults and groups made it twice more at every boot
    const all = fields()
    const loaded = defaults(all)
    for (const g of groups(all)) {
        const stored = await readStored(g)
        if (!stored.present) continue
        if (stored.corrupt || typeof stored.value !== "object" || !stored.value) {
            console.warn(`settings: "${g}" is corrupted; its factory defaults are used`)
            continue
        }
        for (const f of all) {
            if (groupOf(f.id) !== g) continue
            const v = stored.value[nameOf(f.id)]
            if (v === undefined) continue
            const problem = validateValue(f, v)
            if (problem) console.warn(`settings: stored ${f.id} is invalid (${problem}); the default is used`)
            else loaded[f.id] = v
        }
    }
    values = loaded
}

export function setting(id: string): any {
    return values[id]
}

/** Every setting with secrets replaced by whether they are set: what a browser may see. */
export function publicSettings() {
    const r: Record<string, any> = {}
    for (const f of fields()) r[f.id] = f.secret ? values[f.id] !== "" : values[f.id]
    return r
}

function groupObject(g: string, pending: Record<string, any>, all: FieldSpec[]) {
    const o: Record<string, any> = {}
    for (const f of all)
        if (groupOf(f.id) === g) {
            const v = pending[f.id] !== undefined ? pending[f.id] : values[f.id]
            if (v !== f.def) o[nameOf(f.id)] = v // defaults are not stored: smaller groups
        }
    return o
}

/**
 * Validates and stores changes ({ "wifi.ssid": "home", ... }). Returns the problems by id; when
 * there is any, nothing is written.
 */
export async function updateSettings(changes: Record<string, any>): Promise<Record<string, string>> {
    const errors: Record<string, string> = {}
    let bad = false
    const touched: string[] = []
    for (const id of Object.keys(changes)) {
        const f = fieldSpec(id)
        const problem = f ? validateValue(f, changes[id]) : "unknown setting"
        if (problem) {
            errors[id] = problem
            bad = true
        } else if (touched.indexOf(groupOf(id)) < 0) touched.push(groupOf(id))
    }
    if (bad) return errors
    // the table once per change: made per group (a restore touches all 15), it ran the VM's time
    // slice out (InfiniteLoop in the data-api test)
    const all = fields()
    for (const g of touched) {
        const size = Buffer.from(JSON.stringify(groupObject(g, changes, all))).length
        if (size > MAX_STORED_BYTES) {
            for (const id of Object.keys(changes)) if (groupOf(id) === g) errors[id] = `too long to store together with the other "${g}" settings`
            bad = true
        }
    }
    if (bad) return errors
    for (const g of touched) await writeSetting(g, groupObject(g, changes, all))
    const ids = Object.keys(changes)
    for (const id of ids) values[id] = changes[id]
    settingsChanged.emit(ids)
    return errors
}

/** Keys kept outside the groups; factory reset deletes them too. */
const OTHER_KEYS = ["resetCount", V1_BMS_ADDRESS, V1_BMS_INVERT, V1_BOOTS]

/** Keys of the device itself, not of its owner: kept by a factory reset (the access point's password). */
const DEVICE_KEYS = ["apPass"]

/** Wipes every setting (Wi-Fi, passwords, counters, everything) back to the factory defaults. */
export async function factoryReset() {
    const kept: any[] = []
    for (const k of DEVICE_KEYS) kept.push(await readSetting<any>(k, null))
    // every key by name: the settings service's `clear` does nothing in the DeviceScript 2.16.4 VM
    const all = fields()
    for (const g of groups(all)) await deleteSetting(g)
    for (const k of OTHER_KEYS) await deleteSetting(k)
    await settings.clear()
    for (let i = 0; i < DEVICE_KEYS.length; i++) if (kept[i] !== null) await writeSetting(DEVICE_KEYS[i], kept[i])
    await writeSetting(VERSION_KEY, SCHEMA_VERSION)
    values = defaults(all)
    settingsChanged.emit(Object.keys(values))
}
