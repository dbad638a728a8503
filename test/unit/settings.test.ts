import * as ds from "@devicescript/core"
import { describe, test, expect } from "@devicescript/test"
import { deleteSetting, settings, writeSetting } from "@devicescript/settings"
import { fields, fieldSpec, groups, MAX_STORED_BYTES, validateValue } from "../../src/settings/schema"
import { factoryReset, loadSettings, publicSettings, readStored, setting, updateSettings, VERSION_KEY } from "../../src/settings/store"

const v = (id: string, value: any) => validateValue(fieldSpec(id), value)

describe("schema", () => {
    test("every group fits a settings key and every default is valid", () => {
        for (const g of groups(fields())) expect(g.length <= 13).toBe(true)
        for (const f of fields()) expect(validateValue(f, f.def)).toBe(null)
    })
    test("one row parsed alone is the same spec as in the whole table; unknown ids have none", () => {
        const all = fields()
        expect(all.length).toBe(45)
        for (const f of all) expect(JSON.stringify(fieldSpec(f.id))).toBe(JSON.stringify(f))
        expect(JSON.stringify(fieldSpec("ports.web").forbidden)).toBe("[80]")
        expect(fieldSpec("bms.board").max).toBe(16) // the last row (no comma after it)
        expect(fieldSpec("wifi")).toBe(null)
        expect(fieldSpec("ssid")).toBe(null)
        expect(fieldSpec('wifi.ssid"')).toBe(null)
        expect(fieldSpec("")).toBe(null)
    })
    test("wrong types", () => {
        expect(v("wifi.ssid", 5)).toBe("must be text")
        expect(v("ports.web", "6789")).toBe("must be a whole number")
        expect(v("ports.web", 67.5)).toBe("must be a whole number")
        expect(v("mqtt.on", "yes")).toBe("must be true or false")
    })
    test("ranges", () => {
        expect(v("ports.web", 0)).toBe("must be from 1 to 65535")
        expect(v("ports.web", 80)).toBe("80 is not allowed")
        expect(v("ports.unit", 248)).toBe("must be from 1 to 247")
        expect(v("preset.days", 128)).toBe("must be from 1 to 127")
        expect(v("bms.addr", 0x41)).toBe("must be 0 (detect), 64 (0x40) or 128 (0x80)")
        expect(v("bms.addr", 0x80)).toBe(null)
    })
    test("lengths and characters", () => {
        expect(v("wifi.ssid", "123456789012345678901234567890123")).toBe("at most 32 characters")
        expect(v("wifi.pass", "short")).toBe("empty or at least 8 characters")
        expect(v("wifi.pass", "")).toBe(null)
        expect(v("wifi.host", "Smart_BMS")).toBe("only a-z, 0-9 and -")
        expect(v("wifi.host", "-bms")).toBe("cannot start or end with -")
        expect(v("mqtt.host", "broker.local")).toBe(null)
        expect(v("mqtt.host", "bad host")).toBe("a host name or IPv4 address")
        expect(v("preset.time", "24:00")).toBe("HH:MM, 00:00 to 23:59")
        expect(v("preset.time", "03:30")).toBe(null)
        expect(v("user.serial", "tab\there")).toBe("no control characters")
    })
})

describe("store", () => {
    test("changes are validated all or nothing; unknown keys are refused", async () => {
        await factoryReset()
        await loadSettings()
        const errors = await updateSettings({ "wifi.ssid": "home", "ports.web": 80, "nope.x": 1 })
        expect(errors["ports.web"]).toBe("80 is not allowed")
        expect(errors["nope.x"]).toBe("unknown setting")
        expect(errors["wifi.ssid"]).toBe(undefined)
        expect(setting("wifi.ssid")).toBe("") // nothing was written
        await loadSettings()
        expect(setting("wifi.ssid")).toBe("")
    })
    test("good changes are stored and survive a reload; secrets stay secret", async () => {
        const errors = await updateSettings({ "wifi.ssid": "home", "wifi.pass": "correct horse", "ports.modbus": 1502 })
        expect(Object.keys(errors).length).toBe(0)
        await loadSettings()
        expect(setting("wifi.ssid")).toBe("home")
        expect(setting("ports.modbus")).toBe(1502)
        expect(publicSettings()["wifi.pass"]).toBe(true)
        expect(publicSettings()["mqttAuth.pass"]).toBe(false)
    })
    test("a group too long to store is refused, naming its fields", async () => {
        let pass = ""
        for (let i = 0; i < 63; i++) pass += "\\" // each doubles in JSON
        let host = ""
        for (let i = 0; i < 32; i++) host += "h"
        const errors = await updateSettings({ "wifi.ssid": "abcdefghijklmnopqrstuvwxyz012345", "wifi.pass": pass, "wifi.host": host })
        expect(errors["wifi.pass"]).toBe('too long to store together with the other "wifi" settings')
        expect(setting("wifi.pass")).toBe("correct horse")
        expect(MAX_STORED_BYTES).toBe(200)
    })
    test("a corrupted group falls back to its defaults, the others load", async () => {
        await updateSettings({ "ports.web": 8080, "wifi.ssid": "home" })
        await settings.set("ports", Buffer.from("{not json"))
        await loadSettings()
        expect(setting("ports.web")).toBe(6789)
        expect(setting("wifi.ssid")).toBe("home")
    })
    test("an invalid stored value falls back to its default", async () => {
        await writeSetting("ports", { web: 80, modbus: 1502 })
        await loadSettings()
        expect(setting("ports.web")).toBe(6789)
        expect(setting("ports.modbus")).toBe(1502)
    })
    test("migration from schema version 1", async () => {
        await factoryReset()
        await deleteSetting(VERSION_KEY) // as a version 1 firmware left it
        await writeSetting("bmsAddress", 0x80)
        await writeSetting("bmsInvertCur", true)
        await writeSetting("boots", 7)
        await loadSettings()
        expect(setting("bms.addr")).toBe(0x80)
        expect(setting("bms.invert")).toBe(true)
        expect((await readStored(VERSION_KEY)).value).toBe(3)
        expect((await readStored("bmsAddress")).present).toBe(false)
        expect((await readStored("boots")).present).toBe(false)
        expect(setting("sdlog.on")).toBe(true) // schema 1 had no SD logging: the new default
    })
    test("a new unit logs to the SD card from the first boot", async () => {
        await factoryReset()
        await deleteSetting(VERSION_KEY) // a blank flash
        await loadSettings()
        expect(setting("sdlog.on")).toBe(true)
        expect((await readStored(VERSION_KEY)).value).toBe(3)
        expect((await readStored("sdlog")).present).toBe(false)
    })
    test("migration from schema version 2: an installed unit keeps SD logging as it was", async () => {
        await factoryReset()
        await writeSetting(VERSION_KEY, 2)
        await writeSetting("sdlog", { period: 30 }) // "on" at schema 2's default, off
        await loadSettings()
        expect(setting("sdlog.on")).toBe(false)
        expect(setting("sdlog.period")).toBe(30)
        expect((await readStored(VERSION_KEY)).value).toBe(3)
        await loadSettings() // once only
        expect(setting("sdlog.on")).toBe(false)
        await writeSetting(VERSION_KEY, 2)
        await writeSetting("sdlog", { on: true })
        await loadSettings()
        expect(setting("sdlog.on")).toBe(true)
        await writeSetting(VERSION_KEY, 2)
        await deleteSetting("sdlog")
        await loadSettings()
        expect(setting("sdlog.on")).toBe(false)
        expect((await readStored("sdlog")).value["on"]).toBe(false)
    })
    test("factory reset wipes everything", async () => {
        await updateSettings({ "wifi.ssid": "home", "admin.pass": "12345678" })
        await factoryReset()
        await loadSettings()
        expect(setting("wifi.ssid")).toBe("")
        expect(setting("admin.pass")).toBe("")
        expect(setting("ports.web")).toBe(6789)
    })
})
