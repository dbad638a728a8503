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
    $("info").innerHTML = [["Firmware", d.firmware], ["Device id", d.id], ["Uptime", `${d.uptime_s} s`], ["Mode", d.mode === "ap" ? "access point" : "station"], ["IP address", d.ip], ["Hostname", `${d.hostname}.local`], ["Reset counter at boot", d.reset_counter], ["Battery serial", bat.serial || "–"], ["Battery address", bat.location || "–"], ["SD card log", st.sd ? `${st.sd.state}${st.sd.last_row ? ", last row " + st.sd.last_row : ""}` : "–"],
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
        const first = !session.password_set
        $("loginhint").textContent = first ? "First setup: choose the admin password (8 to 64 characters)." : "Log in with the admin password."
        $("loginbtn").textContent = first ? "Set password" : "Log in"
        return
    }
    const [schema, values] = await Promise.all([api("/api/schema"), api("/api/settings")])
    if (run !== setupRun) return
    const groups = {}
    for (const f of schema.data) (groups[f.id.split(".")[0]] = groups[f.id.split(".")[0]] || []).push(f)
    $("fields").innerHTML = Object.keys(groups).map(g => `<fieldset><legend>${GROUPS[g] || g}</legend>` + groups[g].map(f => {
        const v = values.data[f.id]
        const input = f.type === "bool"
            ? `<select id="f-${f.id}"><option value="true"${v ? " selected" : ""}>on</option><option value="false"${v ? "" : " selected"}>off</option></select>`
            : `<input id="f-${f.id}" type="${f.secret ? "password" : f.type === "int" ? "number" : "text"}" ${f.secret ? `placeholder="${v ? "set (unchanged)" : "not set"}"` : `value="${String(v).replace(/"/g, "&quot;")}"`}>`
        return `<label for="f-${f.id}">${LABELS[f.id] || f.id}</label>${input}<div class="error" id="e-${f.id}"></div>`
    }).join("") + "</fieldset>").join("")
    $("fields").dataset.schema = JSON.stringify(schema.data)
    $("fields").dataset.values = JSON.stringify(values.data)
    $("settings").hidden = false // shown once its fields are there
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
        let v = f.type === "bool" ? el.value === "true" : f.type === "int" ? Number(el.value) : el.value
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

// one refresh at a time, the next 2 s after the last one ended (an interval would pile them up)
;(async () => {
    for (;;) {
        await refresh()
        await new Promise(resolve => setTimeout(resolve, 2000))
    }
})()
