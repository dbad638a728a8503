// The SD card's CSV logs (docs/sdlog.md): one file per day per kind, LOG/YYYYMMDD.CSV (main) and
// CELL/YYYYMMDD.CSV (cells). Each file starts with a line naming the battery, then a header row
// naming every column with its unit. Pure.
import { BmsSnapshot } from "../bms/snapshot"
import { fixed } from "../console/format"

export const MAIN_FOLDER = "/LOG"
export const CELL_FOLDER = "/CELL"

export function logPath(folder: string, dateCode: string) {
    return `${folder}/${dateCode}.CSV`
}

/** CSV text field: quoted when it holds a comma, quote or line break. */
export function csvText(s: string) {
    let needs = false
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (c === 44 || c === 34 || c === 10 || c === 13) needs = true
    }
    if (!needs) return s
    let out = ""
    for (let i = 0; i < s.length; i++) out += s.charAt(i) === '"' ? '""' : s.charAt(i)
    return `"${out}"`
}

export function batteryLine(kind: string, serial: string, location: string, deviceId: string) {
    return `# Smart BMS dongle ${kind} log,battery serial,${csvText(serial)},battery address,${csvText(location)},device,${deviceId}\r\n`
}

export function mainHeader(sensors: number) {
    let h = "time,voltage_V,current_A,soc_pct,remaining_Ah,cell_min_mV,cell_min_no,cell_max_mV,cell_max_no"
    for (let i = 1; i <= sensors; i++) h += `,temp${i}_C`
    return h + ",charge_mos,discharge_mos,link,alarms,fault_code\r\n"
}

/** A main row; `s` null (link down) gives empty measurements and the link state. */
export function mainRow(time: string, s: BmsSnapshot, link: string, sensors: number) {
    if (!s) {
        let empty = ""
        for (let i = 0; i < 8 + sensors; i++) empty += ","
        return `${time}${empty},,,${link},,\r\n`
    }
    let r = `${time},${fixed(s.voltageV, 1)},${fixed(s.currentA, 1)},${fixed(s.socPct, 1)},${fixed(s.remainingAh, 3)},`
    r += `${s.cellMinMv},${s.cellMinNumber},${s.cellMaxMv},${s.cellMaxNumber}`
    for (let i = 0; i < sensors; i++) r += "," + (i < s.tempsC.length ? s.tempsC[i] : "")
    return r + `,${s.chargeMos ? 1 : 0},${s.dischargeMos ? 1 : 0},${link},${s.alarms.join(" ")},${s.faultCode}\r\n`
}

export function cellHeader(cells: number) {
    let h = "time"
    for (let i = 1; i <= cells; i++) h += `,cell${i}_mV`
    return h + ",balancing_cells\r\n"
}

export function cellRow(time: string, s: BmsSnapshot, link: string, cells: number) {
    let r = time
    for (let i = 0; i < cells; i++) r += "," + (s && i < s.cellsMv.length ? s.cellsMv[i] : "")
    return r + "," + (s ? s.balancing.join(" ") : link) + "\r\n"
}
