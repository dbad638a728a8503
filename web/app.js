"use strict"
const $ = id => document.getElementById(id)
const fmt = (v, d, unit) => (v === null || v === undefined ? "–" : v.toFixed(d) + (unit ? " " + unit : ""))
let loggedIn = false
const GROUPS = { wifi: "Wi-Fi", admin: "Admin", ports: "Local services", mqtt: "MQTT", mqttAuth: "MQTT login", mqttTopic: "MQTT topics", ftp: "FTP upload", ftpAuth: "FTP login", sdlog: "SD card log", preset: "Periodic reset", user: "Battery", bms: "BMS" }
const LABELS = {
    "wifi.ssid": "Network name (SSID); empty: access point", "wifi.pass": "Network password", "wifi.host": "Host name (NAME.local)",
    "ports.web": "Web port (never 80)", "ports.modbus": "Modbus TCP port", "ports.unit": "Modbus unit id", "ports.mbWrite": "Modbus writes",
    "ports.pcm": "PCMaster bridge", "ports.pcmPort": "PCMaster UDP port",
    "mqtt.on": "MQTT", "mqtt.host": "Broker host", "mqtt.port": "Broker port", "mqtt.tls": "TLS", "mqtt.period": "Publish period (s)",
    "mqtt.cmds": "Commands (MOS, SOC)", "mqtt.ha": "Home Assistant discovery", "mqtt.haPrefix": "Discovery prefix",
    "mqttAuth.user": "User", "mqttAuth.pass": "Password", "mqttAuth.client": "Client id (empty: smartbms-ID)", "mqttTopic.prefix": "Topic prefix (empty: smartbms/ID)",
    "ftp.on": "FTP upload", "ftp.host": "Server host", "ftp.port": "Server port", "ftp.period": "Sending period (s)", "ftp.cells": "Send cell logs",
    "ftpAuth.user": "User", "ftpAuth.pass": "Password", "sdlog.on": "SD card logging", "sdlog.period": "Logging period (s)", "sdlog.cells": "Save cell logs",
    "preset.on": "Periodic reset", "preset.max": "Most resets a day", "preset.days": "Days (1 Mon, 2 Tue, 4 Wed, 8 Thu, 16 Fri, 32 Sat, 64 Sun; add up)",
    "preset.time": "Time of day (HH:MM)", "user.serial": "Battery serial number", "user.location": "Battery address (location)",
    "bms.addr": "BMS address (0 detect, 64 = 0x40, 128 = 0x80)", "bms.invert": "Invert current sign",
    "bms.proto": "BMS found (protocol x 256 + address; 0 none yet)", "bms.force": "Force BMS protocol (0 detect, 1 0xA5, 2 D2, 3 0x81+board)",
    "bms.board": "BMS board number (0x81 scheme)",
}
/** The columns of GET /api/schema's rows: src/settings/schema.ts KEYS (a test keeps them the same). */
const SCHEMA_KEYS = ["id", "kind", "def", "min", "max", "minLength", "maxLength", "text", "secret", "emptyOk", "forbidden"]
let session = {}

// An answer takes longer than this only when it will never come (the dongle restarted, Wi-Fi lost):
// give up, so that no request holds one of the browser's few connections to the dongle for ever.
const API_TIMEOUT_MS = 10000

async function api(path, body) {
    const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }
    opts.signal = AbortSignal.timeout(API_TIMEOUT_MS)
    let r
    try {
        r = await fetch(path, opts)
    } catch (e) {
        // a kept-alive connection the dongle had just closed: browsers retry GETs, never POSTs.
        // Every POST of this API may safely be repeated.
        if (opts.signal.aborted) throw e
        opts.signal = AbortSignal.timeout(API_TIMEOUT_MS)
        r = await fetch(path, opts)
    }
    let data = {}
    try { data = await r.json() } catch (e) {}
    return { status: r.status, data }
}

function show(tab) {
    for (const b of document.querySelectorAll("nav button")) b.classList.toggle("on", b.dataset.tab === tab)
    for (const s of document.querySelectorAll("main section")) s.hidden = s.id !== tab
    if (tab === "setup") openSetup()
}

function renderStatus(st) {
    const b = st.bms
    const ok = b.link === "ok" && b.polling === "active"
    $("link").textContent = b.polling !== "active" ? "PCMaster session" : b.link === "ok" ? "BMS ok" : b.link === "bms_data_error" ? "BMS not answering" : "starting"
    $("link").className = "badge " + (ok ? "ok" : "bad")
    const m = ok ? b : st.last_good || b
    $("stale").hidden = ok
    if (!ok) $("stale").textContent = st.last_good ? `No current data: last values from ${st.last_good.age_s} s ago, greyed.` : "No data from the BMS yet."
    document.body.classList.toggle("stale", !ok)
    $("voltage").textContent = fmt(m.voltage_v, 1, "V")
    $("current").textContent = fmt(m.current_a, 1, "A")
    $("power").textContent = fmt(m.power_w, 0, "W")
    $("soc").textContent = fmt(m.soc_pct, 1, "%")
    $("remaining").textContent = fmt(m.remaining_ah, 1, "Ah")
    $("cycles").textContent = m.cycles === null || m.cycles === undefined ? "–" : m.cycles
    const cells = m.cells_mv || []
    const lo = Math.min(...cells), hi = Math.max(...cells)
    $("cellrange").textContent = cells.length ? `${cells.length} cells, ${lo}–${hi} mV, Δ ${hi - lo} mV` : ""
    $("cells").innerHTML = cells.map((mv, i) => {
        const cls = ["cell", mv === lo ? "min" : "", mv === hi ? "max" : "", (m.balancing || []).includes(i + 1) ? "bal" : ""].join(" ")
        const pct = hi > lo ? 15 + (85 * (mv - lo)) / (hi - lo) : 100
        return `<div class="${cls}" title="cell ${i + 1}"><div class="bar"><i data-h="${pct.toFixed(1)}"></i></div>${i + 1}<br>${mv}</div>`
    }).join("")
    // heights through the CSSOM: the Content-Security-Policy forbids inline style attributes
    for (const bar of document.querySelectorAll(".bar i")) bar.style.height = bar.dataset.h + "%"
    $("temps").innerHTML = (m.temps_c || []).map((t, i) => `<span>T${i + 1} ${t} °C</span>`).join("")
    $("mos").innerHTML = m.charge_mos === null ? "" : `<span>Charge MOS ${m.charge_mos ? "on" : "off"}</span><span>Discharge MOS ${m.discharge_mos ? "on" : "off"}</span><span>${m.state}</span>`
    $("alarms").innerHTML = (m.alarms || []).map(a => `<li class="error">${a.replace(/_/g, " ")}</li>`).join("") + (m.fault_code ? `<li class="error">fault code ${m.fault_code}</li>` : "")
    const d = st.device
    const bat = st.battery || {}
    $("info").innerHTML = [["Firmware", d.firmware], ["Device id", d.id], ["Uptime", `${d.uptime_s} s`], ["Mode", d.mode === "ap" ? "access point" : "station"], ["IP address", d.ip], ["Hostname", `${d.hostname}.local`], ["Reset counter at boot", d.reset_counter], ["Battery serial", bat.serial || "–"], ["Battery address", bat.location || "–"], ["SD card log", st.sd ? `${st.sd.state === "no_card" ? "no card" : st.sd.state}${st.sd.last_row ? ", last row " + st.sd.last_row : ""}` : "–"],
        ["FTP upload", st.ftp ? `${st.ftp.state}${st.ftp.last_success ? ", last sent " + st.ftp.last_success : ""}${st.ftp.last_login ? ", last log in " + st.ftp.last_login : ""}${st.ftp.last_error ? " (" + st.ftp.last_error + ")" : ""}` : "–"],
        ["Periodic resets today", st.periodic_reset ? `${st.periodic_reset.resets_today}${st.periodic_reset.last_reset ? ", last " + st.periodic_reset.last_reset : ""}` : "–"]]
        .map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("")
}

async function refreshJournal() {
    const j = (await api("/api/journal")).data
    $("jlast").textContent = j.last ? `last record: ${j.last}` : "empty"
    $("journal").innerHTML = j.entries.map(e => `<tr${e.position === j.last ? ' class="last"' : ""}><td>${e.position}</td><td>${e.occurred}</td><td>${e.cleared || "active"}</td><td>${e.flags.join(", ").replace(/_/g, " ")}${e.fault_code ? " (" + e.fault_code + ")" : ""}</td></tr>`).join("")
}

async function refresh() {
    try {
        const r = await api("/api/status")
        if (r.status === 200) renderStatus(r.data)
        if (!$("device").hidden) await refreshJournal()
    } catch (e) {
        $("link").textContent = "dongle unreachable"
        $("link").className = "badge bad"
    }
}

let setupRun = 0
async function openSetup() {
    const run = ++setupRun // only the latest call may render: a slower one must not overwrite edits
    session = (await api("/api/session")).data
    if (run !== setupRun) return
    loggedIn = session.logged_in
    $("login").hidden = loggedIn
    if (!loggedIn) {
        $("settings").hidden = true
        $("backup").hidden = true
        const first = !session.password_set
        $("loginhint").textContent = first ? "First setup: choose the admin password (8 to 64 characters)." : "Log in with the admin password."
        $("loginbtn").textContent = first ? "Set password" : "Log in"
        return
    }
    const [schema, values] = await Promise.all([api("/api/schema"), api("/api/settings")])
    if (run !== setupRun) return
    const groups = {}
    // /api/schema: one row per setting, columns in SCHEMA_KEYS order, null where a key does not apply
    const fields = schema.data.filter(row => row[0] !== "admin.pass").map(row => Object.fromEntries(row.map((v, k) => [SCHEMA_KEYS[k], v]).filter(kv => kv[1] !== null)))
    for (const f of fields) (groups[f.id.split(".")[0]] = groups[f.id.split(".")[0]] || []).push(f)
    $("fields").innerHTML = Object.keys(groups).map(g => `<fieldset><legend>${GROUPS[g] || g}</legend>` + groups[g].map(f => {
        const v = values.data[f.id]
        const input = f.kind === 3
            ? `<select id="f-${f.id}"><option value="true"${v ? " selected" : ""}>on</option><option value="false"${v ? "" : " selected"}>off</option></select>`
            : `<input id="f-${f.id}" type="${f.secret ? "password" : f.kind === 2 ? "number" : "text"}" ${f.secret ? `placeholder="${v ? "set (unchanged)" : "not set"}"` : `value="${String(v).replace(/"/g, "&quot;")}"`}>`
        return `<label for="f-${f.id}">${LABELS[f.id] || f.id}</label>${input}<div class="error" id="e-${f.id}"></div>`
    }).join("") + "</fieldset>").join("")
    $("fields").dataset.schema = JSON.stringify(fields)
    $("fields").dataset.values = JSON.stringify(values.data)
    $("settings").hidden = false // shown once its fields are there
    $("backup").hidden = false
}

async function guarded(where, work) {
    try {
        await work()
    } catch (e) {
        $(where).textContent = "The dongle did not answer; try again."
    }
}

$("login").addEventListener("submit", ev => guarded("loginerror", async () => {
    ev.preventDefault()
    const r = await api(session.password_set ? "/api/login" : "/api/setup", { password: $("password").value })
    $("loginerror").textContent = r.status === 200 ? "" : (r.data.errors && r.data.errors.password) || r.data.error || `error ${r.status}`
    $("password").value = ""
    if (r.status === 200) await openSetup()
}))

$("settings").addEventListener("submit", ev => guarded("saved", async () => {
    ev.preventDefault()
    const schema = JSON.parse($("fields").dataset.schema), old = JSON.parse($("fields").dataset.values)
    const changes = {}
    for (const f of schema) {
        const el = $("f-" + f.id)
        $("e-" + f.id).textContent = ""
        let v = f.kind === 3 ? el.value === "true" : f.kind === 2 ? Number(el.value) : el.value
        if (f.secret) { if (el.value !== "") changes[f.id] = v; continue }
        if (v !== old[f.id]) changes[f.id] = v
    }
    const r = await api("/api/settings", changes)
    if (r.status === 200) { $("saved").textContent = "Saved. They take effect after a reboot (Actions)."; openSetup() }
    else {
        $("saved").textContent = r.data.error || `error ${r.status}`
        for (const id of Object.keys(r.data.errors || {})) if ($("e-" + id)) $("e-" + id).textContent = r.data.errors[id]
    }
}))


// ---- charts: drawn here as SVG (no library, works offline); a gap in the data is a gap in the line
const SERIES = [
    ["voltage", "Pack voltage", "V", 2, ["v"]], ["current", "Current", "A", 1, ["i"]], ["soc", "SOC", "%", 1, ["soc"]],
    ["cells", "Lowest / highest cell", "mV", 0, ["cmin", "cmax"]], ["temps", "Temperatures (lowest / highest)", "°C", 0, ["tmin", "tmax"]],
]
const W = 320, H = 110, L = 34, B = 14

/** points: [{x, v, i, soc, cmin, cmax, tmin, tmax} or {x, gap: true}], x in hours; [x0, x1] the span; label(x) for the axis */
function drawCharts(el, points, x0, x1, label) {
    el.innerHTML = SERIES.map(([key, title, unit, dec, fields]) => {
        const vals = points.filter(p => !p.gap).flatMap(p => fields.map(f => p[f])).filter(v => v !== null && v !== undefined && !Number.isNaN(v))
        if (!vals.length) return `<div class="chart"><small>${title}: no data</small></div>`
        let lo = Math.min(...vals), hi = Math.max(...vals)
        if (hi - lo < 1e-9) { lo -= 1; hi += 1 }
        const px = x => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - 4)
        const py = v => 4 + (1 - (v - lo) / (hi - lo)) * (H - B - 8)
        const paths = fields.map((f, n) => {
            let d = "", pen = false
            for (const p of points) {
                const v = p.gap ? null : p[f]
                if (v === null || v === undefined || Number.isNaN(v)) { pen = false; continue }
                d += `${pen ? "L" : "M"}${px(p.x).toFixed(1)},${py(v).toFixed(1)}`
                pen = true
            }
            return `<path class="${n ? "line2" : "line"}" d="${d}"/>`
        }).join("")
        const ticks = [0, 0.25, 0.5, 0.75, 1].map(k => x0 + k * (x1 - x0))
        return `<div class="chart"><small>${title} (${unit})</small><svg viewBox="0 0 ${W} ${H}" data-series="${key}" role="img" aria-label="${title}">` +
            `<line class="axis" x1="${L}" y1="${H - B}" x2="${W}" y2="${H - B}"/><line class="axis" x1="${L}" y1="0" x2="${L}" y2="${H - B}"/>` +
            `<text x="${L - 2}" y="10" text-anchor="end">${hi.toFixed(dec)}</text><text x="${L - 2}" y="${H - B}" text-anchor="end">${lo.toFixed(dec)}</text>` +
            ticks.map(x => `<text x="${px(x)}" y="${H - 2}" text-anchor="middle">${label(x)}</text>`).join("") + paths + `</svg></div>`
    }).join("")
}

/** GET /api/history (docs/api.md): 8-byte head, then 12 bytes a point, oldest first */
async function refreshHistory() {
    const r = await fetch("/api/history")
    if (!r.ok) return
    const v = new DataView(await r.arrayBuffer())
    const step = v.getUint16(0, true), count = v.getUint16(2, true), age = v.getUint32(4, true)
    const points = []
    for (let k = 0; k < count; k++) {
        const o = 8 + k * 12, x = -(age + (count - 1 - k) * step) / 3600
        if (v.getUint16(o, true) === 0xffff) { points.push({ x, gap: true }); continue }
        const tmin = v.getInt8(o + 10), tmax = v.getInt8(o + 11)
        points.push({ x, v: v.getUint16(o, true) / 100, i: v.getInt16(o + 2, true) / 10, soc: v.getUint16(o + 4, true) / 10,
            cmin: v.getUint16(o + 6, true), cmax: v.getUint16(o + 8, true), tmin: tmin === 127 ? null : tmin, tmax: tmax === -128 ? null : tmax })
    }
    const span = Math.max(step * 96, 60) / 3600
    $("histinfo").textContent = count ? `${count} points, one every ${step} s${points.some(p => p.gap) ? "; gaps: no data from the BMS" : ""}` : "collecting (one point every " + step + " s)"
    drawCharts($("history"), points, -span, 0, x => (x > -0.001 ? "now" : `${(x * (span >= 2 ? 1 : 60)).toFixed(0)} ${span >= 2 ? "h" : "min"}`))
}

/** A day's main log (CSV with the battery line and header, docs/service.md) as chart points */
function csvPoints(text) {
    const lines = text.split("\r\n").filter(l => l && !l.startsWith("#"))
    const head = lines.shift().split(",")
    const col = n => head.indexOf(n)
    const temps = head.map((h, k) => (/^temp\d+_C$/.test(h) ? k : -1)).filter(k => k >= 0)
    const num = s => (s === "" || s === undefined ? null : Number(s))
    const points = []
    let last = null
    for (const line of lines) {
        const c = line.split(",")
        const t = /T(\d\d):(\d\d):(\d\d)/.exec(c[0])
        if (!t) continue
        const x = +t[1] + t[2] / 60 + t[3] / 3600
        if (last !== null && x - last > 0.5) points.push({ x: (x + last) / 2, gap: true }) // the dongle was off
        last = x
        const v = num(c[col("voltage_V")])
        if (v === null) { points.push({ x, gap: true }); continue } // bms_data_error or paused
        const ts = temps.map(k => num(c[k])).filter(z => z !== null)
        points.push({ x, v, i: num(c[col("current_A")]), soc: num(c[col("soc_pct")]), cmin: num(c[col("cell_min_mV")]), cmax: num(c[col("cell_max_mV")]),
            tmin: ts.length ? Math.min(...ts) : null, tmax: ts.length ? Math.max(...ts) : null })
    }
    return points
}

async function chartDay(name) {
    $("daytitle").hidden = false
    $("daytitle").textContent = `${name.slice(0, 4)}-${name.slice(4, 6)}-${name.slice(6, 8)} (from the SD card)`
    const r = await fetch(`/api/logs/main/${name}`)
    if (!r.ok) { $("day").textContent = `error ${r.status}`; return }
    const points = csvPoints(await r.text())
    drawCharts($("day"), points, 0, 24, x => `${String(Math.round(x)).padStart(2, "0")}:00`)
    $("day").dataset.points = points.length
}

async function refreshLogs() {
    const r = await api("/api/logs")
    if (r.status !== 200) { $("logsinfo").textContent = r.data.error || `error ${r.status}`; $("logs").innerHTML = ""; return }
    const rows = []
    for (const kind of ["main", "cell"]) for (const f of r.data[kind]) rows.push({ kind, ...f })
    $("logsinfo").textContent = rows.length ? "" : "none yet"
    $("logs").innerHTML = rows.reverse().map(f => `<tr><td>${f.kind}</td><td>${f.name}</td><td>${(f.size / 1024).toFixed(1)} KB</td>` +
        `<td><a href="/api/logs/${f.kind}/${f.name}" download="${f.kind}-${f.name}">Download</a>` +
        (f.kind === "main" ? `<button type="button" data-day="${f.name}">Chart</button>` : "") + `</td></tr>`).join("")
    for (const b of document.querySelectorAll("[data-day]")) b.addEventListener("click", () => chartDay(b.dataset.day))
}

// ---- settings backup and restore (Setup)
$("withsecrets").addEventListener("change", () => { $("backuppass").hidden = !$("withsecrets").checked })
$("backupbtn").addEventListener("click", () => guarded("backupresult", async () => {
    // with the passwords: POST /api/backup after the admin password again; without: the settings as shown here
    const r = $("withsecrets").checked ? await api("/api/backup", { password: $("backuppass").value }) : await api("/api/settings")
    $("backuppass").value = ""
    if (r.status !== 200) { $("backupresult").textContent = r.data.error || `error ${r.status}`; return }
    if (!$("withsecrets").checked) {
        const settings = {}
        for (const id of Object.keys(r.data)) if (typeof r.data[id] !== "boolean" || !JSON.parse($("fields").dataset.schema).find(f => f.id === id && f.secret)) settings[id] = r.data[id]
        r.data = { format: "smartbms-settings", schema: 3, secrets: false, settings }
    }
    const a = document.createElement("a")
    a.href = URL.createObjectURL(new Blob([JSON.stringify(r.data, null, 1)], { type: "application/json" }))
    a.download = "smartbms-settings.json"
    document.body.appendChild(a)
    a.click()
    a.remove()
    $("backupresult").textContent = `Downloaded${r.data.secrets ? ", with the passwords: keep the file safe" : " (without passwords)"}.`
}))
$("restorebtn").addEventListener("click", () => guarded("backupresult", async () => {
    const file = $("restorefile").files[0]
    if (!file) { $("backupresult").textContent = "Choose a backup file first."; return }
    let backup
    try { backup = JSON.parse(await file.text()) } catch (e) { backup = null }
    if (!backup || backup.format !== "smartbms-settings" || typeof backup.settings !== "object") { $("backupresult").textContent = "Not a settings backup of this dongle."; return }
    const current = JSON.parse($("fields").dataset.values || "{}")
    const changes = {}
    for (const id of Object.keys(backup.settings)) if (backup.settings[id] !== current[id]) changes[id] = backup.settings[id]
    const r = await api("/api/settings", changes) // validated as a whole: nothing is written unless all is valid
    if (r.status === 200) { $("backupresult").textContent = `Restored (${Object.keys(changes).length} settings changed). They take effect after a reboot (Actions).`; openSetup() }
    else $("backupresult").textContent = `Nothing restored: ${r.data.error || "error " + r.status}` + (r.data.errors ? " (" + Object.entries(r.data.errors).map(([k, v]) => `${k}: ${v}`).join("; ") + ")" : "")
}))

for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => show(b.dataset.tab))
for (const b of document.querySelectorAll("[data-action]")) b.addEventListener("click", async () => {
    const action = b.dataset.action
    const body = { action }
    if (b.dataset.on) body.on = b.dataset.on === "true"
    if (action === "set_soc") body.soc = Number($("socvalue").value)
    if (!confirm(`${b.textContent}: are you sure?`)) return
    const r = await api("/api/action", body)
    $("actionresult").textContent = r.status < 300 ? "Done." : r.data.error || `error ${r.status}`
})

// one request after the other: the dongle answers one at a time and its heap is small. The status
// refreshes 2 s after the last refresh ended (an interval would pile them up), the history every 30 s.
;(async () => {
    await refresh()
    await refreshHistory().catch(() => {})
    await refreshLogs().catch(() => {})
    for (let n = 1; ; n++) {
        await new Promise(resolve => setTimeout(resolve, 2000))
        await refresh()
        if (n % 15 === 0) await refreshHistory().catch(() => {})
    }
})()
