import { describe, test, expect } from "@devicescript/test"
import { writeMetrics } from "../../src/web/metrics"
import { sendStream } from "../../src/web/stream"

const VALUES = {
    firmware: "0.1.0", id: "abcd", uptime_s: 12, reset_counter: 1, link: "ok", paused: false, voltage_v: 13.2, current_a: -6.4, power_w: -84.5,
    soc_pct: 58.2, remaining_ah: 2.91, rated_ah: null as number, cycles: 3, cells_mv: [3300, 3301, 3299, 3302], cell_min_mv: 3299, cell_max_mv: 3302,
    cell_delta_mv: 3, balancing: [2], balancing_bits: [0, 1, 0, 0], temps_c: [21, 22], charge_mos: true, discharge_mos: false, charger: false, load: true,
    state: "discharging", alarms: ["diff_volt_l1"], fault_code: 0, age_s: 0.4, sd: "ok", sd_rows: 5, ftp: "off", mqtt: "failed", rssi: null as number,
}

describe("metrics", () => {
    test("the exposition of a snapshot", async () => {
        let text = ""
        await writeMetrics(VALUES, async (t: string) => {
            text += t
        })
        const has = (line: string) => expect(text.indexOf("\n" + line + "\n") >= 0).toBe(true)
        has("smartbms_pack_voltage_volts 13.2")
        has("smartbms_state_of_charge_ratio 0.582")
        has('smartbms_cell_voltage_volts{cell="3"} 3.299')
        has('smartbms_cell_balancing{cell="2"} 1')
        has('smartbms_cell_balancing{cell="1"} 0')
        has('smartbms_alarm{alarm="diff_volt_l1"} 1')
        has('smartbms_alarm{alarm="cell_volt_high_l1"} 0')
        has('smartbms_battery_state{state="discharging"} 1')
        has('smartbms_mqtt_state{state="failed"} 1')
        has("smartbms_discharge_mos_on 0")
        has("# TYPE smartbms_charge_cycles_total counter")
        expect(text.indexOf("rated_capacity") < 0).toBe(true) // null: left out
        expect(text.indexOf("wifi_signal") < 0).toBe(true)
    })
})

describe("streamed bodies", () => {
    test("chunked framing of a streamed body", async () => {
        const written: Buffer[] = []
        const conn: any = { write: async (b: Buffer | string) => { written.push(typeof b === "string" ? Buffer.from(b) : b) } }
        const req: any = { method: "GET", path: "/metrics", keepAlive: true }
        const res: any = { status: 200, type: "text/plain", body: "", stream: async (w: any) => { await writeMetrics(VALUES, async (t: string) => await w.write(t)) } }
        expect(await sendStream(conn, res, "/metrics")).toBe(true)
        let all = ""
        for (const b of written) all += b.toString()
        // the chunks: size in hex, CRLF, that many bytes, CRLF; then the last chunk, size 0
        let at = 0
        let body = ""
        let chunks = 0
        for (;;) {
            const eol = all.indexOf("\r\n", at)
            let n = 0
            for (let k = at; k < eol; k++) n = n * 16 + "0123456789abcdef".indexOf(all.charAt(k))
            if (n === 0) break
            body += all.slice(eol + 2, eol + 2 + n)
            expect(all.slice(eol + 2 + n, eol + 4 + n)).toBe("\r\n")
            at = eol + 4 + n
            chunks++
        }
        expect(all.slice(at)).toBe("0\r\n\r\n")
        expect(chunks >= 2).toBe(true)
        expect(body.indexOf("# HELP smartbms_uptime_seconds") === 0).toBe(true)
        expect(body.slice(body.length - 28)).toBe('smartbms_mqtt_state{state="failed"} 1\n'.slice(-28))
    })
})
