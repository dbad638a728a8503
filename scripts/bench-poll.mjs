#!/usr/bin/env node
// `npm run bench:poll`: the firmware polls the virtual BMS (9600-baud timing, 12 ms reply latency)
// for 4, 16 and 48 cells; prints the measured full-cycle time and its ratio to the wire-time bound:
// every byte exchanged at 9600 baud (10 bits per byte) plus the BMS's reply latency per request.
// Slow reads (one every SLOW_EVERY_CYCLES cycles) are in both the measurement and the bound.
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { Dongle } from "../host/dongle.mjs"
import { BYTE_MS } from "../host/bms/wire.mjs"

console.debug = () => {}
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 15000)
const REPLY_LATENCY_MS = 12
const SLOW_EVERY_CYCLES = 20 // as src/bms/poller.ts
const FAST_REPLY_FRAMES = (cells, sensors) => 7 + Math.ceil(cells / 3) + Math.ceil(sensors / 7) // 9 requests
const SLOW_FRAMES = [1, 5] // 0x50 0x57

function boundMs(cells, sensors) {
    const fast = (9 + FAST_REPLY_FRAMES(cells, sensors)) * 13 * BYTE_MS + 9 * REPLY_LATENCY_MS
    const slowAvg = SLOW_FRAMES.reduce((a, f) => a + (1 + f) * 13 * BYTE_MS + REPLY_LATENCY_MS, 0) / SLOW_FRAMES.length
    return fast + slowAvg / SLOW_EVERY_CYCLES
}

const rows = []
for (const [cells, sensors] of [[4, 1], [16, 2], [48, 16]]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartbms-bench-"))
    const d = await Dongle.start({ state: path.join(dir, "state"), sd: path.join(dir, "sd"), bms: { cells, temperatureSensors: sensors }, log: () => {} })
    try {
        await d.waitForLine(/^BMS link: ok/, { timeoutMs: 20000 })
        await new Promise(r => setTimeout(r, 4000)) // past the first slow reads
        const a = (await d.bmsService.read()).poll
        const t0 = Date.now()
        await new Promise(r => setTimeout(r, SAMPLE_MS))
        const b = (await d.bmsService.read()).poll
        const measured = (Date.now() - t0) / (b.completedCycles - a.completedCycles)
        const bound = boundMs(cells, sensors)
        rows.push({ cells, sensors, cycles: b.completedCycles - a.completedCycles, measured, bound, failed: b.failedRequests - a.failedRequests })
    } finally {
        await d.stop()
        fs.rmSync(dir, { recursive: true, force: true })
    }
}

console.log(`poll cycle against the virtual BMS, ${SAMPLE_MS / 1000} s per pack size`)
console.log("cells  sensors  cycles  cycle ms  bound ms  ratio  refreshes/s  failed requests")
for (const r of rows)
    console.log(
        `${String(r.cells).padStart(5)}  ${String(r.sensors).padStart(7)}  ${String(r.cycles).padStart(6)}  ${r.measured.toFixed(0).padStart(8)}  ${r.bound.toFixed(0).padStart(8)}  ${(r.measured / r.bound).toFixed(2).padStart(5)}  ${(1000 / r.measured).toFixed(2).padStart(11)}  ${String(r.failed).padStart(15)}`,
    )
