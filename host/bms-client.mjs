// Reads the firmware's "Daly BMS" service (services/dalybms.md) over the dongle's Jacdac bus, and
// sends its commands: what a Jacdac tool sees, and what the system tests check the firmware with.
import { jd } from "./services/jacdac.mjs"

export const DALY_BMS_CLASS = 0x1e4f2a61
export const LINK_NAMES = ["starting", "ok", "bms_data_error"]
const REGISTERS = {
    link: [0x180, "u8"], packVoltage: [0x181, "u32"], current: [0x182, "i32"], soc: [0x183, "u16"],
    remaining: [0x184, "u32"], rated: [0x185, "u32"], cycles: [0x186, "u16"], cells: [0x187, "r: u16"],
    temps: [0x188, "r: i16"], switches: [0x189, "u8 u8 u8 u8 u8 u8"], balancing: [0x18a, "b"],
    alarms: [0x18b, "b"], faultCode: [0x18c, "u8"], age: [0x18d, "u32"], pollStats: [0x18e, "u32 u32 u32 u8"],
    batteryCode: [0x18f, "s"],
}
const COMMANDS = { setChargeMos: 0x80, setDischargeMos: 0x81, setSoc: 0x82, resetBms: 0x83, setBalancer: 0x84 }

export class BmsClient {
    constructor(bus) {
        this.bus = bus
    }

    service() {
        return this.bus.services({ serviceClass: DALY_BMS_CLASS })[0]
    }

    async waitForService(timeoutMs = 15000) {
        const deadline = Date.now() + timeoutMs
        for (;;) {
            const s = this.service()
            if (s) return s
            if (Date.now() > deadline) throw new Error("the firmware serves no Daly BMS service")
            await new Promise(r => setTimeout(r, 50))
        }
    }

    async readRegister(name) {
        const [code, fmt] = REGISTERS[name]
        const srv = await this.waitForService()
        const pkt = jd.Packet.onlyHeader(jd.CMD_GET_REG | code)
        const resp = await srv.sendCmdAwaitResponseAsync(pkt, 2000)
        if (!resp) throw new Error(`no answer reading ${name}`)
        const values = jd.jdunpack(resp.data, fmt)
        // repeated fields come back as [[[v1], [v2], ...]]
        return fmt.startsWith("r:") ? (values[0] ?? []).map(v => v[0]) : values.length === 1 ? values[0] : values
    }

    /** The whole snapshot in physical units (the names of the API's `bms` object where they exist). */
    async read() {
        const r = {}
        for (const name of Object.keys(REGISTERS)) r[name] = await this.readRegister(name)
        const [chargeMos, dischargeMos, charger, load, state, dio] = r.switches
        const [completedCycles, failedRequests, lastCycleMs, address] = r.pollStats
        const bits = (buf, n) => [...Array(n).keys()].filter(i => buf[i >> 3] & (1 << (i & 7))).map(i => i + 1)
        return {
            link: LINK_NAMES[r.link] ?? String(r.link),
            voltage_v: r.packVoltage / 1000,
            current_a: r.current / 1000,
            soc_pct: r.soc / 10,
            remaining_ah: r.remaining / 1000,
            rated_ah: r.rated / 1000,
            cycles: r.cycles,
            cells_mv: r.cells,
            temps_c: r.temps,
            charge_mos: !!chargeMos,
            discharge_mos: !!dischargeMos,
            charger: !!charger,
            load: !!load,
            state: ["idle", "charging", "discharging"][state],
            digital_io: dio,
            balancing: bits(r.balancing, r.cells.length),
            alarm_bits: [...r.alarms],
            fault_code: r.faultCode,
            age_ms: r.age,
            battery_code: r.batteryCode,
            poll: { completedCycles, failedRequests, lastCycleMs, address },
        }
    }

    async command(name, fmt, values) {
        const srv = await this.waitForService()
        const pkt = jd.Packet.from(COMMANDS[name], fmt ? jd.jdpack(fmt, values) : new Uint8Array(0))
        const resp = await srv.sendCmdAwaitResponseAsync(pkt, 8000)
        if (!resp) throw new Error(`no answer to ${name}`)
        return !!resp.data[0]
    }

    setChargeMos(on) {
        return this.command("setChargeMos", "u8", [on ? 1 : 0])
    }

    setDischargeMos(on) {
        return this.command("setDischargeMos", "u8", [on ? 1 : 0])
    }

    /** SOC in % (0.1 % steps); the firmware sends it with its clock. */
    setSoc(pct) {
        return this.command("setSoc", "u16", [Math.round(pct * 10)])
    }

    setBalancer(on) {
        return this.command("setBalancer", "u8", [on ? 1 : 0])
    }

    resetBms() {
        return this.command("resetBms")
    }
}
