#!/usr/bin/env node
// `npm run bench:lan`: the dongle's local services on the host runtime.
// - Modbus: a 40-register read (0x00-0x27), sequential requests on one connection for BENCH_MS;
//   requests/s and p50/p99 latency, against modbus-serial's own ServerTCP serving static registers
//   (the same client, the same machine), as a ratio;
// - GET /api/status: p50/p99 over sequential requests on keep-alive connections;
// - the size of the embedded web assets (raw and gzipped).
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { gzipSync } from "node:zlib"
import ModbusRTU from "modbus-serial"
import { Dongle, PROJECT_DIR } from "../host/dongle.mjs"

console.debug = () => {}
const BENCH_MS = Number(process.env.BENCH_MS ?? 10000)
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]

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
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6)
        if (r.data.length !== 40) throw new Error("short read")
    }
    c.close(() => {})
    return { rate: lat.length / (BENCH_MS / 1000), p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length }
}

async function referenceServer() {
    const registers = Array.from({ length: 0x60 }, (_, i) => 3300 + i)
    const server = new ModbusRTU.ServerTCP(
        { getHoldingRegister: a => registers[a], getInputRegister: a => registers[a] },
        { host: "127.0.0.1", port: 0, unitID: 1 },
    )
    await new Promise(r => server.on("initialized", r))
    return server
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartbms-bench-"))
const d = await Dongle.start({ state: path.join(dir, "s"), sd: path.join(dir, "sd"), bms: { cells: 16 }, portMap: { 502: 0, 6789: 0, 6790: 0 }, log: () => {} })
try {
    await d.waitForLine(/^Modbus TCP: port 502/, { timeoutMs: 25000 })
    await d.waitForLine(/^BMS link: ok/)
    const dongleModbus = await modbusRun(await d.waitForPort(502))

    const ref = await referenceServer()
    const refPort = ref._server.address().port
    const plain = await modbusRun(refPort)
    await new Promise(r => ref.close(r))

    const web = await d.waitForPort(6789)
    const lat = []
    const end = Date.now() + BENCH_MS
    while (Date.now() < end) {
        const t0 = process.hrtime.bigint()
        const r = await fetch(`http://127.0.0.1:${web}/api/status`)
        await r.json()
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }

    const assets = fs.readdirSync(path.join(PROJECT_DIR, "web")).map(f => {
        const b = fs.readFileSync(path.join(PROJECT_DIR, "web", f))
        return { f, raw: b.length, gz: gzipSync(b, { level: 9 }).length }
    })
    const f1 = x => x.toFixed(1)
    console.log(`Modbus, 40-register read, ${BENCH_MS / 1000} s sequential on one connection:`)
    console.log(`  dongle (host runtime)     ${f1(dongleModbus.rate)} req/s  p50 ${f1(dongleModbus.p50)} ms  p99 ${f1(dongleModbus.p99)} ms`)
    console.log(`  modbus-serial ServerTCP   ${f1(plain.rate)} req/s  p50 ${f1(plain.p50)} ms  p99 ${f1(plain.p99)} ms`)
    console.log(`  ratio (dongle / plain)    ${(dongleModbus.rate / plain.rate).toFixed(3)} of the throughput, ${f1(dongleModbus.p50 / plain.p50)}x the p50 latency`)
    console.log(`GET /api/status, ${lat.length} requests: p50 ${f1(pct(lat, 50))} ms  p99 ${f1(pct(lat, 99))} ms`)
    console.log(`web assets: ${assets.map(a => `${a.f} ${a.raw} B (${a.gz} B gzipped)`).join(", ")}; total ${assets.reduce((s, a) => s + a.raw, 0)} B, ${assets.reduce((s, a) => s + a.gz, 0)} B gzipped`)
} finally {
    await d.stop()
    fs.rmSync(dir, { recursive: true, force: true })
}
