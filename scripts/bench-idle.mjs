#!/usr/bin/env node
// `npm run bench:idle`: how heavy the host runtime is while idle with the BMS polled. It runs the
// product as a user does (`node host/cli.mjs`, the virtual BMS with 16 cells, an SD card folder,
// every LAN port on a free port), waits for the BMS link and SETTLE_MS, then measures for IDLE_MS
// (default 30 s) the CPU time and the resident memory of every process of it (one: the VM runs in
// the host's process). Goal: the whole host runtime <= 150 MB resident and <= 3 % of one core.
// SETTLE_MS is a minute: V8 compiles the VM's busiest WebAssembly functions again with its
// optimising compiler during the first minute (about 4.8 % of one core then, 2-3 % after), and the
// figure that matters on a Raspberry Pi is the one of the years after.
import { spawn } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import readline from "node:readline"
import { fileURLToPath } from "node:url"
import { measureTree } from "./idle-meter.mjs"

const PROJECT_DIR = fileURLToPath(new URL("..", import.meta.url))
export const IDLE_GOAL = { rssBytes: 150 * 1024 * 1024, cpuPercent: 3 }
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 60000)
const MB = 1024 * 1024

/** Starts `npm start`'s host runtime in a temporary folder; resolves once the BMS link is ok. */
async function startHostRuntime(dir) {
    const child = spawn(
        process.execPath,
        [path.join(PROJECT_DIR, "host", "cli.mjs"), "--state", path.join(dir, "state"), "--sd", path.join(dir, "sd"),
            "--bms-cells", "16", "--port-map", "502=0,6789=0,6790=0,8899=0"],
        { stdio: ["ignore", "pipe", "pipe"] },
    )
    const lines = []
    const linked = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "BMS link: ok" within 30 s; last lines:\n${lines.slice(-10).join("\n")}`)), 30000)
        readline.createInterface({ input: child.stdout }).on("line", line => {
            lines.push(line)
            if (/^BMS link: ok/.test(line)) {
                clearTimeout(timer)
                resolve()
            }
        })
        readline.createInterface({ input: child.stderr }).on("line", line => lines.push(line))
        child.once("exit", code => reject(new Error(`the host runtime exited (code ${code}):\n${lines.slice(-10).join("\n")}`)))
    })
    await linked
    return child
}

/** Runs the idle measurement; returns { seconds, processes, cpuPercent, rssBytes }. */
export async function benchIdle(idleMs = Number(process.env.IDLE_MS ?? 30000)) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartbms-idle-"))
    let child
    try {
        child = await startHostRuntime(dir)
        await new Promise(r => setTimeout(r, SETTLE_MS))
        return await measureTree(child.pid, idleMs, p => (p.pid === child.pid ? "host runtime (with its VM)" : `child process ${p.pid}`))
    } finally {
        if (child && child.exitCode === null) {
            const exited = new Promise(r => child.once("exit", r))
            child.kill("SIGTERM")
            await exited
        }
        fs.rmSync(dir, { recursive: true, force: true })
    }
}

export function idleReport(r) {
    const out = [`Host runtime idle with the BMS polled (16 cells), ${r.seconds.toFixed(0)} s:`]
    for (const p of r.processes)
        out.push(`  ${p.name.padEnd(24)} ${(p.rssBytes / MB).toFixed(1).padStart(6)} MB resident  ${p.cpuPercent === null ? "  -" : p.cpuPercent.toFixed(1).padStart(5)} % of one core`)
    const ok = r.rssBytes <= IDLE_GOAL.rssBytes && r.cpuPercent <= IDLE_GOAL.cpuPercent
    out.push(`  ${"all processes".padEnd(24)} ${(r.rssBytes / MB).toFixed(1).padStart(6)} MB resident  ${r.cpuPercent.toFixed(1).padStart(5)} % of one core` +
        `   (goal <= ${IDLE_GOAL.rssBytes / MB} MB, <= ${IDLE_GOAL.cpuPercent} %: ${ok ? "PASS" : "FAIL"})`)
    return { text: out.join("\n"), ok }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
    const { text, ok } = idleReport(await benchIdle())
    console.log(text)
    process.exitCode = ok ? 0 : 1
}
