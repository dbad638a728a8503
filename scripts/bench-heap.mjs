#!/usr/bin/env node
// `npm run bench:heap`: the firmware's GC heap (64 KB on the ESP32-C3) on the host runtime with the
// virtual BMS, measured by the VM's heap meter (host/heap-meter.cjs, SMARTBMS_HEAP_LOG; see
// docs/host-runtime.md). Phases of BENCH_MS each (default 20 s):
// - idle: defaults, nothing connected;
// - all at once: six web connections (status, pages, API), four Modbus TCP clients, a PCMaster UDP
//   session, MQTT publishing every second to a local aedes broker, FTP uploads every 10 s to a local
//   ftp-srv, SD logging every second with cell logs;
// - then (unless --quick) the same with one feature off at a time, and with no LAN client at all:
//   what a feature costs is the difference to "all at once".
// Prints, per phase: peak used (the most the heap held, garbage included: just before a collection),
// the live set each collection left (min-max), the least free space and the smallest largest free
// block, the collections seen, and how much each load did (so that "on" is proven). Goal: peak <=
// 48 KB in every phase; exit code 1 when not met.
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import net from "node:net"
import http from "node:http"
import dgram from "node:dgram"
import ModbusRTU from "modbus-serial"
import { Aedes } from "aedes"
import { FtpSrv } from "ftp-srv"
import { Dongle } from "../host/dongle.mjs"
import { checksum } from "../host/bms/daly-frame.mjs"

console.debug = () => {}
const PHASE_MS = Number(process.env.BENCH_MS ?? 20000)
const SETTLE_MS = 8000 // after a boot: the program's tasks have started and allocated their state
const GOAL_BYTES = 48 * 1024
const QUICK = process.argv.includes("--quick")
const MQTT_USER = "dongle"
const MQTT_PASS = "bench-mqtt-1"
const FTP_USER = "logger"
const FTP_PASS = "bench-ftp-1"
const sleep = ms => new Promise(r => setTimeout(r, ms))

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartbms-bench-heap-"))
const heapLog = path.join(dir, "heap.jsonl")
process.env.SMARTBMS_HEAP_LOG = heapLog // read by host/vm.mjs when the first VM starts

// ---- the peers: an MQTT broker and an FTP server on loopback ----
async function startBroker() {
    const aedes = Aedes.createBroker ? await Aedes.createBroker() : new Aedes()
    aedes.authenticate = (client, user, pass, done) => done(null, user === MQTT_USER && pass?.toString() === MQTT_PASS)
    let publishes = 0
    aedes.on("publish", (packet, client) => {
        if (client) publishes++
    })
    const server = net.createServer(aedes.handle)
    await new Promise(r => server.listen(0, "127.0.0.1", r))
    return {
        port: server.address().port,
        count: () => publishes,
        stop: () => new Promise(r => (server.close(() => r()), aedes.close(), Object.values(aedes.clients ?? {}).forEach(c => c.close?.()))),
    }
}

async function startFtp(root) {
    const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return this } }
    const server = new FtpSrv({ url: "ftp://127.0.0.1:0", pasv_url: "127.0.0.1", pasv_min: 41000, pasv_max: 41999, anonymous: false, greeting: "bench", log: quiet })
    server.on("login", ({ username, password }, resolve, reject) => (username === FTP_USER && password === FTP_PASS ? resolve({ root }) : reject(new Error("wrong login"))))
    await server.listen()
    return { port: server.server.address().port, stop: () => server.close().catch(() => {}) }
}

// ---- the LAN loads: each runs until stopped and counts what it got ----
function webLoad(port) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 6 })
    const paths = ["/api/status", "/", "/api/status", "/app.js", "/api/status", "/style.css", "/api/journal", "/api/schema", "/api/session"]
    const load = { ok: 0, failed: 0, running: true }
    const get = p =>
        new Promise(resolve => {
            const req = http.get({ host: "127.0.0.1", port, path: p, agent, headers: { "accept-encoding": "gzip" } }, res => {
                let complete = false
                res.on("data", () => {})
                res.on("end", () => (complete = true))
                // "close" also comes when the connection breaks in the middle of the body
                res.on("close", () => resolve(complete && res.statusCode === 200))
            })
            req.setTimeout(10000, () => req.destroy())
            req.on("error", () => resolve(false))
        })
    const worker = async w => {
        for (let i = w; load.running; i++) {
            if (await get(paths[i % paths.length])) load.ok++
            else {
                load.failed++
                await sleep(100) // a refused connection fails at once: do not spin
            }
        }
    }
    load.done = Promise.all([0, 1, 2, 3, 4, 5].map(worker))
    load.stop = async () => {
        load.running = false
        await load.done
        agent.destroy()
    }
    load.summary = () => `web ${load.ok} ok/${load.failed} failed`
    return load
}

function modbusLoad(port) {
    const load = { ok: 0, failed: 0, running: true }
    const worker = async () => {
        const c = new ModbusRTU()
        try {
            await c.connectTCP("127.0.0.1", { port })
        } catch {
            load.failed++
            return
        }
        c.setID(1)
        c.setTimeout(5000)
        while (load.running) {
            try {
                const r = await c.readHoldingRegisters(0, 40)
                if (r.data.length === 40) load.ok++
                else load.failed++
            } catch {
                load.failed++
                if (!c.isOpen) return // the dongle closed the connection (or restarted)
                await sleep(100)
            }
        }
        c.close(() => {}) // (its callback waits for the server to close its side)
    }
    load.done = Promise.all([0, 1, 2, 3].map(worker))
    load.stop = async () => {
        load.running = false
        await load.done
    }
    load.summary = () => `modbus ${load.ok} ok/${load.failed} failed`
    return load
}

// one client socket for every phase: PCMaster keeps its address, the dongle keeps one session
let pcmSocket = null
let pcmWaiting = null
async function pcmasterSocket() {
    if (!pcmSocket) {
        pcmSocket = dgram.createSocket("udp4")
        pcmSocket.on("message", () => pcmWaiting?.())
        await new Promise(r => pcmSocket.bind(0, "127.0.0.1", r))
    }
    return pcmSocket
}

function pcmasterLoad(port) {
    const load = { ok: 0, failed: 0, running: true }
    const request = id => {
        const f = Buffer.alloc(13)
        f.set([0xa5, 0x40, id, 8])
        f[12] = checksum(f)
        return f
    }
    const ids = [0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98]
    load.done = (async () => {
        const socket = await pcmasterSocket()
        for (let i = 0; load.running; i++) {
            const answered = new Promise(r => {
                pcmWaiting = () => r(true)
                setTimeout(() => r(false), 1000)
            })
            socket.send(request(ids[i % ids.length]), port, "127.0.0.1")
            if (await answered) load.ok++
            else load.failed++
            pcmWaiting = null
            await sleep(100) // PCMaster's pace: a few requests a second
        }
    })()
    load.stop = async () => {
        load.running = false
        await load.done
    }
    load.summary = () => `pcmaster ${load.ok} replies/${load.failed} unanswered`
    return load
}

// ---- heap figures of a phase, from the meter's windows ----
function heapWindows(from, to) {
    if (!fs.existsSync(heapLog)) return []
    return fs
        .readFileSync(heapLog, "utf8")
        .split("\n")
        .filter(Boolean)
        .map(l => JSON.parse(l))
        .filter(w => w.t > from && w.t <= to)
}

function figures(ws) {
    const live = ws.filter(w => w.gcs)
    const min = (xs, k) => Math.min(...xs.map(w => w[k]).filter(v => v !== null))
    const max = (xs, k) => Math.max(...xs.map(w => w[k]))
    return {
        heap: ws.length ? ws[0].heap : 0,
        samples: ws.reduce((a, w) => a + w.n, 0),
        bad: ws.reduce((a, w) => a + w.bad, 0),
        peak: Math.max(max(ws, "usedMax"), max(ws, "beforeGcMax")),
        liveMin: live.length ? min(live, "liveMin") : NaN,
        liveMax: live.length ? max(live, "liveMax") : NaN,
        freeMin: min(ws, "freeMin"),
        largestMin: min(ws, "largestMin"),
        gcs: ws.reduce((a, w) => a + w.gcs, 0),
    }
}

// ---- the dongle ----
const rows = []
let dongle = null
let broker = null
let ftp = null
const PANIC = /^PANIC \d+/ // an uncaught exception (OutOfMemory...): the VM restarts the program

async function resetWith(settings) {
    for (const [key, value] of Object.entries(settings)) await dongle.writeFirmwareSetting(key, value)
    await dongle.settleFlash()
    const since = dongle.mark()
    await dongle.reset()
    await dongle.waitForLine(/^Reset counter \d+: normal start/, { since, timeoutMs: 30000 })
    return since
}

const sdRoot = path.join(dir, "sd")
function sdBytes() {
    let n = 0
    for (const sub of ["LOG", "CELL"]) {
        const f = path.join(sdRoot, sub)
        if (fs.existsSync(f)) for (const name of fs.readdirSync(f)) n += fs.statSync(path.join(f, name)).size
    }
    return n
}

// the LAN loads, each on the host port that serves the program's port now
const LAN = {
    web: async () => webLoad(await dongle.waitForPort(6789)),
    modbus: async () => modbusLoad(await dongle.waitForPort(502)),
    pcmaster: async () => pcmasterLoad(await dongle.waitForPort(6790)),
}
const pick = names => Object.fromEntries(names.map(n => [n, LAN[n]]))

/**
 * Runs the LAN loads `lan` (names) for PHASE_MS (their start included: connecting costs memory too),
 * records the heap figures as `name`, with `base` the phase its feature costs are measured against.
 */
async function phase(name, lan, uplinks, base) {
    const since = dongle.mark()
    const bootsBefore = dongle.boots
    const mqtt0 = broker.count()
    const sd0 = sdBytes()
    const from = Date.now()
    const running = await Promise.all(lan.map(n => LAN[n]()))
    await sleep(PHASE_MS)
    const to = Date.now()
    const activity = []
    for (const l of running) {
        await l.stop()
        activity.push(l.summary())
    }
    const lines = dongle.linesSince(since)
    if (uplinks.mqtt) activity.push(`mqtt ${broker.count() - mqtt0} publishes`)
    if (uplinks.ftp) activity.push(`ftp ${lines.filter(l => /^FTP: sent /.test(l)).length} files sent`)
    if (uplinks.sd) activity.push(`sd +${sdBytes() - sd0} B`)
    const crash = lines.findIndex(l => PANIC.test(l))
    const restarts = dongle.boots - bootsBefore + lines.filter(l => PANIC.test(l)).length
    const why = crash >= 0 ? lines.slice(Math.max(0, crash - 8), crash + 1).filter(l => /^(Exception| at )/.test(l)).slice(0, 4).join(" ") : ""
    rows.push({ name, ...figures(heapWindows(from, to)), restarts, why, activity: activity.join(", "), base })
    console.error(`  measured: ${name}${restarts ? " (the program restarted)" : ""}`)
    if (restarts) {
        // let the program come back before the next phase
        await dongle.waitForLine(/^Web: port/, { since: since + crash, timeoutMs: 30000 })
        await sleep(SETTLE_MS)
    }
}

const KB = b => (Number.isFinite(b) ? (b / 1024).toFixed(1).padStart(5) : "    -")

try {
    broker = await startBroker()
    const ftpRoot = path.join(dir, "ftproot")
    fs.mkdirSync(ftpRoot)
    ftp = await startFtp(ftpRoot)
    console.error(`bench:heap: phases of ${PHASE_MS / 1000} s${QUICK ? " (quick)" : ""}; about ${QUICK ? 1.5 : 9} minutes`)
    // the chip's packet throttle (docs/host-runtime.md): the loads reach the firmware at the pace
    // they would on the ESP32-C3, not the host's faster one, so the heap figures stay the chip's
    dongle = await Dongle.start({ echo: !!process.env.BENCH_ECHO, state: path.join(dir, "state"), sd: sdRoot, bms: { cells: 16, temperatureSensors: 2 }, portMap: { 502: 0, 6789: 0, 6790: 0 }, vmPacketCostMs: 20, log: () => {} })
    await dongle.waitForLine(/^Reset counter \d+: normal start/, { timeoutMs: 30000 })
    await sleep(SETTLE_MS)
    await phase("idle (defaults, nothing connected)", [], {})

    // a closed day already on the card: the first upload has something to carry
    fs.mkdirSync(path.join(sdRoot, "LOG"), { recursive: true })
    fs.writeFileSync(path.join(sdRoot, "LOG", "20261120.CSV"), "# an older day\r\ntime,voltage_V\r\n" + "2026-11-20T12:00:00,53.1\r\n".repeat(400))
    const ON = {
        sdlog: { on: true, period: 1, cells: true },
        mqtt: { on: true, host: "127.0.0.1", port: broker.port, period: 1 },
        mqttAuth: { user: MQTT_USER, pass: MQTT_PASS },
        ftp: { on: true, host: "127.0.0.1", port: ftp.port, period: 10, cells: true },
        ftpAuth: { user: FTP_USER, pass: FTP_PASS },
    }
    const all = { mqtt: true, ftp: true, sd: true }
    const names = Object.keys(LAN)
    const UPLINKS = "uplinks (MQTT, FTP, SD; no LAN client)"
    if (!QUICK) {
        // the uplinks switched on one after the other: each costs the difference to the one before
        await resetWith({ mqtt: ON.mqtt, mqttAuth: ON.mqttAuth })
        await sleep(SETTLE_MS)
        await phase("MQTT alone", [], { mqtt: true }, "idle (defaults, nothing connected)")
        await resetWith({ sdlog: ON.sdlog })
        await sleep(SETTLE_MS)
        await phase("MQTT + SD logging", [], { mqtt: true, sd: true }, "MQTT alone")
    }
    const since = await resetWith(ON)
    await dongle.waitForLine(/^MQTT: connected/, { since, timeoutMs: 20000 })
    await dongle.waitForLine(/^FTP: 127\.0\.0\.1/, { since })
    await dongle.waitForLine(/^Web: port/, { since })
    if (!QUICK) {
        await phase(UPLINKS, [], all, "MQTT + SD logging") // FTP's first upload comes 10 s after boot
        for (const n of names) await phase(`uplinks + ${n} alone`, [n], all, UPLINKS)
    }
    await phase("all at once", names, all)
    if (!QUICK) {
        for (const off of names) await phase(`all but ${off}`, names.filter(n => n !== off), all, "all at once")
        const uplinkOff = [
            ["mqtt", { mqtt: { ...ON.mqtt, on: false } }],
            ["ftp", { mqtt: ON.mqtt, ftp: { ...ON.ftp, on: false } }],
            ["sd logging", { ftp: ON.ftp, sdlog: { ...ON.sdlog, on: false } }],
        ]
        for (const [off, settings] of uplinkOff) {
            await resetWith(settings)
            await sleep(SETTLE_MS)
            await phase(`all but ${off}`, names, { mqtt: off !== "mqtt", ftp: off !== "ftp", sd: off !== "sd logging" }, "all at once")
        }
    }
} finally {
    await dongle?.stop()
    await broker?.stop()
    await ftp?.stop()
    pcmSocket?.close()
}

const row = name => rows.find(r => r.name === name)
console.log(`DeviceScript GC heap of the firmware on the host runtime (WASM VM, a ${rows[0]?.heap} B heap as on the ESP32-C3), ${PHASE_MS / 1000} s per phase`)
console.log("peak: the most the heap held (garbage included: just before a collection); live: what each collection left;")
console.log("feature cost: peak / live max of a phase minus those of the phase before it (uplinks switched on one by one; a LAN")
console.log("load on top of the uplinks), or of \"all at once\" minus \"all but X\"")
console.log("phase                                         peak KB  live KB (min-max)  free min KB  largest free KB   GCs  feature cost KB")
for (const r of rows) {
    const b = r.base && row(r.base)
    let cost = ""
    if (b && !r.restarts && !b.restarts) {
        const [hi, lo] = r.base === "all at once" ? [b, r] : [r, b]
        cost = `${((hi.peak - lo.peak) / 1024).toFixed(1)} / ${((hi.liveMax - lo.liveMax) / 1024).toFixed(1)}`
    }
    const state = r.restarts ? `CRASHED: ${r.why || "restarted"}` : cost
    console.log(`${r.name.padEnd(44)}  ${KB(r.peak)}    ${KB(r.liveMin)} - ${KB(r.liveMax)}        ${KB(r.freeMin)}            ${KB(r.largestMin)}  ${String(r.gcs).padStart(4)}  ${state}`)
}
console.log("what the loads did in each phase:")
for (const r of rows) console.log(`  ${r.name}: ${r.activity || "-"}; ${r.samples} heap samples${r.bad ? `, ${r.bad} unreadable` : ""}`)
const failed = rows.filter(r => !(r.peak <= GOAL_BYTES) || r.restarts)
console.log(`goal: peak <= ${GOAL_BYTES / 1024} KB of the ESP32-C3's 64 KB, no crash, in every phase: ${failed.length ? `FAIL (${failed.map(r => `${r.name}: ${r.restarts ? "crashed" : (r.peak / 1024).toFixed(1) + " KB"}`).join("; ")})` : "PASS"}`)
fs.rmSync(dir, { recursive: true, force: true })
process.exitCode = failed.length ? 1 : 0
