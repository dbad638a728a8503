#!/usr/bin/env node
// `npm run bench:lan`: every path through a socket of the host runtime, side by side in one run,
// each against its goal (issue 13, docs/host-runtime.md):
// - idle: resident memory of every process of the host runtime and its CPU while the BMS is polled
//   (scripts/bench-idle.mjs, `npm start` as a user runs it);
// - Modbus TCP: a 40-register read (0x00-0x27), sequential on one connection for BENCH_MS, against
//   modbus-serial's own ServerTCP serving static registers (same client, same machine);
// - GET /api/status: sequential on one keep-alive connection for BENCH_MS;
// - the status page as a browser loads it: the HTML, then style and script at once, then the first
//   status, on fresh connections each time;
// - FTP: the firmware uploads a day's log (FTP_KB, default 256 KB) to a local ftp-srv; the server
//   times the transfer (from STOR to the file's last byte);
// - MQTT: the firmware publishes its full state every second to a local aedes broker; the time of
//   one full state (from its `state` topic to the last value) and its size.
// BENCH_MS (default 10000) per measurement; IDLE_MS (default 30000) for the idle one.
import fs from "node:fs"
import os from "node:os"
import net from "node:net"
import path from "node:path"
import http from "node:http"
import ModbusRTU from "modbus-serial"
import { Aedes } from "aedes"
import { FtpSrv, FileSystem } from "ftp-srv"
import { Dongle } from "../host/dongle.mjs"
import { benchIdle, idleReport } from "./bench-idle.mjs"

console.debug = () => {}
const BENCH_MS = Number(process.env.BENCH_MS ?? 10000)
const FTP_KB = Number(process.env.FTP_KB ?? 256)
const FTP_TIMEOUT_MS = 180000
const USER = "bench"
const PASS = "bench-pass-1"
const sleep = ms => new Promise(r => setTimeout(r, ms))
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]
const ms = t0 => Number(process.hrtime.bigint() - t0) / 1e6
const f1 = x => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(1))

async function modbusRun(port) {
    const c = new ModbusRTU()
    await c.connectTCP("127.0.0.1", { port })
    c.setID(1)
    c.setTimeout(5000)
    const lat = []
    const end = Date.now() + BENCH_MS
    while (Date.now() < end) {
        const t0 = process.hrtime.bigint()
        const r = await c.readHoldingRegisters(0, 40)
        lat.push(ms(t0))
        if (r.data.length !== 40) throw new Error("short read")
    }
    c.close(() => {})
    return { rate: lat.length / (BENCH_MS / 1000), p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length }
}

async function referenceModbus() {
    const registers = Array.from({ length: 0x60 }, (_, i) => 3300 + i)
    const server = new ModbusRTU.ServerTCP(
        { getHoldingRegister: a => registers[a], getInputRegister: a => registers[a] },
        { host: "127.0.0.1", port: 0, unitID: 1 },
    )
    await new Promise(r => server.on("initialized", r))
    try {
        return await modbusRun(server._server.address().port)
    } finally {
        await new Promise(r => server.close(r))
    }
}

/** GET on `agent`; resolves with the body's length once it is complete (rejects otherwise). */
function get(port, agent, p) {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port, path: p, agent, headers: { "accept-encoding": "gzip" } }, res => {
            let n = 0
            res.on("data", d => (n += d.length))
            res.on("end", () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`${p}: HTTP ${res.statusCode}`))))
            res.on("error", reject)
        })
        req.setTimeout(10000, () => req.destroy(new Error(`${p}: no answer within 10 s`)))
        req.on("error", reject)
    })
}

async function statusRun(port) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const lat = []
    const end = Date.now() + BENCH_MS
    while (Date.now() < end) {
        const t0 = process.hrtime.bigint()
        await get(port, agent, "/api/status")
        lat.push(ms(t0))
    }
    agent.destroy()
    return { p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length }
}

/** The status page as a browser loads it on a first visit: fresh connections (at most 6). */
async function pageRun(port) {
    const lat = []
    let bytes = 0
    const end = Date.now() + BENCH_MS
    while (Date.now() < end) {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 6 })
        const t0 = process.hrtime.bigint()
        const html = await get(port, agent, "/")
        const [css, js] = await Promise.all([get(port, agent, "/style.css"), get(port, agent, "/app.js")])
        const status = await get(port, agent, "/api/status")
        lat.push(ms(t0))
        bytes = html + css + js + status
        agent.destroy()
        await sleep(50)
    }
    return { p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length, bytes }
}

// ---- the uplinks' peers ----
async function startBroker() {
    const aedes = Aedes.createBroker ? await Aedes.createBroker() : new Aedes()
    aedes.authenticate = (client, user, pass, done) => done(null, user === USER && pass?.toString() === PASS)
    const publishes = []
    aedes.on("publish", (packet, client) => {
        if (client) publishes.push({ t: process.hrtime.bigint(), topic: packet.topic, bytes: packet.payload.length })
    })
    const server = net.createServer(aedes.handle)
    await new Promise(r => server.listen(0, "127.0.0.1", r))
    return {
        port: server.address().port,
        publishes,
        stop: () => new Promise(r => (server.close(() => r()), aedes.close(), Object.values(aedes.clients ?? {}).forEach(c => c.close?.()))),
    }
}

/** An FTP server that times every upload: from the STOR (or APPE) to the last byte on disk. */
async function startFtp(root) {
    const uploads = []
    class TimedFileSystem extends FileSystem {
        write(fileName, options) {
            const r = super.write(fileName, options)
            const u = { fileName, t0: process.hrtime.bigint(), bytes: 0, done: false }
            r.stream.on("pipe", src => src.on("data", d => (u.bytes += d.length)))
            r.stream.once("finish", () => {
                u.ms = ms(u.t0)
                u.done = true
                uploads.push(u)
            })
            return r
        }
    }
    const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return this } }
    const server = new FtpSrv({ url: "ftp://127.0.0.1:0", pasv_url: "127.0.0.1", pasv_min: 42000, pasv_max: 42999, anonymous: false, greeting: "bench", log: quiet })
    server.on("login", ({ connection, username, password }, resolve, reject) =>
        username === USER && password === PASS ? resolve({ root, fs: new TimedFileSystem(connection, { root, cwd: "/" }) }) : reject(new Error("wrong login")))
    await server.listen()
    return { port: server.server.address().port, uploads, stop: () => server.close().catch(() => {}) }
}

async function resetWith(d, settings) {
    for (const [key, value] of Object.entries(settings)) await d.writeFirmwareSetting(key, value)
    await d.settleFlash()
    const since = d.mark()
    await d.reset()
    await d.waitForLine(/^BMS link: ok/, { since, timeoutMs: 30000 })
    return since
}

/** A day's log of 5-second lines, `kb` KB, as the SD logger writes it (an older day: sent once). */
function writeDayLog(sdRoot, kb) {
    const dir = path.join(sdRoot, "LOG")
    fs.mkdirSync(dir, { recursive: true })
    const line = "2026-11-20T12:00:00,53.12,-4.25,61.0,3.321,3.318,24.5\r\n"
    const text = "time,voltage_V,current_A,soc_pct,max_cell_V,min_cell_V,temp_C\r\n" + line.repeat(Math.ceil((kb * 1024) / line.length))
    fs.writeFileSync(path.join(dir, "20261120.CSV"), text)
    return text.length
}

async function ftpRun(d, dir, sdRoot) {
    const root = path.join(dir, "ftproot")
    fs.mkdirSync(root)
    const ftp = await startFtp(root)
    const size = writeDayLog(sdRoot, FTP_KB)
    try {
        const since = await resetWith(d, { ftp: { on: true, host: "127.0.0.1", port: ftp.port, period: 10, cells: false }, ftpAuth: { user: USER, pass: PASS } })
        const deadline = Date.now() + FTP_TIMEOUT_MS
        let big
        while (!(big = ftp.uploads.find(u => u.bytes >= size)) && Date.now() < deadline) await sleep(200)
        const lines = d.linesSince(since).filter(l => /^FTP: /.test(l))
        await resetWith(d, { ftp: { on: false } })
        if (!big) return { error: `the ${FTP_KB} KB log was not uploaded within ${FTP_TIMEOUT_MS / 1000} s (${lines.slice(-2).join(" | ")})` }
        return { bytes: big.bytes, ms: big.ms, kbps: big.bytes / 1024 / (big.ms / 1000) }
    } finally {
        await ftp.stop()
    }
}

async function mqttRun(d) {
    const broker = await startBroker()
    try {
        await resetWith(d, { mqtt: { on: true, host: "127.0.0.1", port: broker.port, period: 1 }, mqttAuth: { user: USER, pass: PASS } })
        await d.waitForLine(/^MQTT: connected/, { timeoutMs: 15000 })
        const from = broker.publishes.length
        await sleep(BENCH_MS)
        const p = broker.publishes.slice(from)
        await resetWith(d, { mqtt: { on: false } })
        // a full state starts with its `state` topic (then `link`, src/mqtt/uplink.ts); the first
        // and the last one may be cut
        const starts = p.map((m, i) => (/\/state$/.test(m.topic) ? i : -1)).filter(i => i >= 0)
        const states = []
        for (let k = 0; k + 1 < starts.length; k++) {
            const burst = p.slice(starts[k], starts[k + 1])
            states.push({ ms: Number(burst.at(-1).t - burst[0].t) / 1e6, messages: burst.length, bytes: burst.reduce((a, m) => a + m.bytes, 0) })
        }
        if (!states.length) return { error: `no full state published in ${BENCH_MS / 1000} s` }
        const times = states.map(s => s.ms)
        return { p50: pct(times, 50), p99: pct(times, 99), n: states.length, messages: states[0].messages, bytes: states[0].bytes }
    } finally {
        await broker.stop()
    }
}

// ---- the run ----
const idle = await benchIdle()
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartbms-bench-lan-"))
const sdRoot = path.join(dir, "sd")
const d = await Dongle.start({ state: path.join(dir, "s"), sd: sdRoot, bms: { cells: 16 }, portMap: { 502: 0, 6789: 0, 6790: 0 }, log: () => {} })
let r
try {
    await d.waitForLine(/^Modbus TCP: port 502/, { timeoutMs: 25000 })
    await d.waitForLine(/^BMS link: ok/)
    const web = await d.waitForPort(6789)
    r = {
        modbus: await modbusRun(await d.waitForPort(502)),
        plain: await referenceModbus(),
        status: await statusRun(web),
        page: await pageRun(web),
        ftp: await ftpRun(d, dir, sdRoot),
        mqtt: await mqttRun(d),
    }
} finally {
    await d.stop()
    fs.rmSync(dir, { recursive: true, force: true })
}

const rows = []
const row = (what, figure, goal, ok) => rows.push([what, figure, goal, ok === undefined ? "" : ok ? "PASS" : "FAIL"])
const { modbus, plain, status, page, ftp, mqtt } = r
row("Modbus TCP 40-register read, dongle", `${f1(modbus.rate)} req/s, p50 ${f1(modbus.p50)} ms, p99 ${f1(modbus.p99)} ms`, "p50 <= 5x modbus-serial's", modbus.p50 <= 5 * plain.p50)
row("Modbus TCP, modbus-serial ServerTCP", `${f1(plain.rate)} req/s, p50 ${f1(plain.p50)} ms, p99 ${f1(plain.p99)} ms`, `(ratio ${f1(modbus.p50 / plain.p50)}x)`)
row("GET /api/status", `p50 ${f1(status.p50)} ms, p99 ${f1(status.p99)} ms (${status.n} requests)`, "p50 <= 20 ms", status.p50 <= 20)
row("status page (HTML, style, script, status)", `p50 ${f1(page.p50)} ms, p99 ${f1(page.p99)} ms (${page.n} loads, ${page.bytes} B)`, "<= 100 ms", page.p50 <= 100)
if (ftp.error) row("FTP upload to a local server", ftp.error, ">= 50 KB/s", false)
else row("FTP upload to a local server", `${f1(ftp.kbps)} KB/s (${ftp.bytes} B in ${f1(ftp.ms)} ms)`, ">= 50 KB/s", ftp.kbps >= 50)
if (mqtt.error) row("MQTT publish of a full state", mqtt.error, "", false)
else row("MQTT publish of a full state", `p50 ${f1(mqtt.p50)} ms, p99 ${f1(mqtt.p99)} ms (${mqtt.messages} messages, ${mqtt.bytes} B)`, "")
const MB = 1024 * 1024
row("host runtime idle, resident memory", `${f1(idle.rssBytes / MB)} MB (${idle.processes.map(p => `${p.name} ${f1(p.rssBytes / MB)}`).join(", ")})`, "<= 150 MB", idle.rssBytes <= 150 * MB)
row("host runtime idle, CPU (BMS polled)", `${f1(idle.cpuPercent)} % of one core (${idle.processes.map(p => `${p.name} ${f1(p.cpuPercent)}`).join(", ")})`, "<= 3 %", idle.cpuPercent <= 3)

const width = [0, 1, 2].map(i => Math.max(...rows.map(x => x[i].length)))
console.log(`bench:lan (${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}; ${BENCH_MS / 1000} s per measurement, ${f1(idle.seconds)} s idle)`)
for (const x of rows) console.log(`  ${x[0].padEnd(width[0])}  ${x[1].padEnd(width[1])}  ${x[2].padEnd(width[2])}  ${x[3]}`)
if (process.argv.includes("--idle-detail")) console.log(idleReport(idle).text)
