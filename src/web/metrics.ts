// GET /metrics in the Prometheus text exposition format (version 0.0.4), docs/api.md: every value of
// the snapshot in base units with the unit in the name, the link, alarms as labelled gauges, the
// dongle's own state. Values the dongle does not have (null) are left out, never written as 0.
// One table and one loop (the firmware's code is near DeviceScript's 64 KiB limit; strings are
// not). Pure: the text goes to `out` one metric family at a time.
import { ALARM_BITS, alarmName } from "../bms/alarms"
import { splitText } from "../platform/text"

export const METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/**
 * key in the values (/api/status's `bms` and `device` with a few more) | metric name after smartbms_ |
 * type | divisor from the value's unit to the metric's | label of the samples | help. A string value
 * is a state: one sample labelled with it, value 1. An array: one sample per item, labelled with
 * its number from 1 ("alarm": one per named alarm bit, 1 for those in the list).
 */
const METRICS =
    "uptime_s|uptime_seconds|gauge|1||Since start.\n" +
    "reset_counter|quick_restarts|gauge|1||Reset counter of this boot.\n" +
    "wifi_rssi|wifi_signal_dbm|gauge|1||Wi-Fi signal of the station, dBm.\n" +
    "link|bms_link|gauge|1|state|BMS link.\n" +
    "polling|bms_polling|gauge|1|state|BMS polling.\n" +
    "voltage_v|pack_voltage_volts|gauge|1||Pack voltage.\n" +
    "current_a|pack_current_amperes|gauge|1||Pack current, + charging.\n" +
    "power_w|pack_power_watts|gauge|1||Pack power, + charging.\n" +
    "soc_pct|state_of_charge_ratio|gauge|100||State of charge.\n" +
    "remaining_ah|remaining_capacity_coulombs|gauge|0.000277777777777777778||Remaining capacity.\n" +
    "rated_ah|rated_capacity_coulombs|gauge|0.000277777777777777778||Rated capacity.\n" +
    "cycles|charge_cycles_total|counter|1||Charge cycles.\n" +
    "cells_mv|cell_voltage_volts|gauge|1000|cell|Cell voltage.\n" +
    "cell_min_mv|cell_voltage_min_volts|gauge|1000||Lowest cell voltage.\n" +
    "cell_max_mv|cell_voltage_max_volts|gauge|1000||Highest cell voltage.\n" +
    "cell_delta_mv|cell_voltage_spread_volts|gauge|1000||Highest minus lowest cell.\n" +
    "balancing_bits|cell_balancing|gauge|1|cell|Cell balancing.\n" +
    "temps_c|temperature_celsius|gauge|1|sensor|Temperature.\n" +
    "charge_mos|charge_mos_on|gauge|1||Charge MOS on.\n" +
    "discharge_mos|discharge_mos_on|gauge|1||Discharge MOS on.\n" +
    "charger|charger_connected|gauge|1||Charger connected.\n" +
    "load|load_connected|gauge|1||Load connected.\n" +
    "state|battery_state|gauge|1|state|Pack state.\n" +
    "alarms|alarm|gauge|1|alarm|BMS alarm raised.\n" +
    "fault_code|fault_code|gauge|1||BMS fault code.\n" +
    "age_s|snapshot_age_seconds|gauge|1||Age of the values.\n" +
    "sd|sd_card_state|gauge|1|state|SD card logging.\n" +
    "sd_rows|sd_rows_written_total|counter|1||Main log rows written.\n" +
    "ftp|ftp_state|gauge|1|state|FTP upload.\n" +
    "mqtt|mqtt_state|gauge|1|state|MQTT uplink."

/** `v`: the values by key (see METRICS). */
export async function writeMetrics(v: any, out: (text: string) => Promise<void>) {
    for (const line of splitText(METRICS, "\n")) {
        const f = splitText(line, "|")
        const x = v[f[0]]
        if (x === null || x === undefined) continue
        const name = "smartbms_" + f[1]
        await out(`# HELP ${name} ${f[5]}\n# TYPE ${name} ${f[2]}\n`)
        const names = f[4] === "alarm"
        const many = Array.isArray(x)
        const n = names ? ALARM_BITS : many ? x.length : 1
        for (let i = 0; i < n; i++) {
            const item = many && !names ? x[i] : x
            const alarm = names ? alarmName(i) : ""
            const value = names ? (x.indexOf(alarm) < 0 ? 0 : 1) : typeof item === "string" ? 1 : Math.round((+item * 1000) / parseFloat(f[3])) / 1000
            const label = !f[4] ? "" : `{${f[4]}="${names ? alarm : typeof item === "string" ? item : i + 1}"}`
            if (!names || alarm) await out(`${name}${label} ${value}\n`) // one line at a time: the heap is small
        }
    }
}
