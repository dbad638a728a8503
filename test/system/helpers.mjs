// Shared by the system tests: a dongle in temporary folders, stopped after the test.
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { spawn } from "node:child_process"
import { Dongle, PROJECT_DIR } from "../../host/dongle.mjs"

// jacdac-ts reports its transport state with console.debug; keep the test output readable
console.debug = () => {}

export const FIXTURES = path.join(PROJECT_DIR, "built", "fixtures")
export const CLI = path.join(PROJECT_DIR, "host", "cli.mjs")

/** Per test: what must stop before its temporary folders go (dongles, host processes). */
const stoppers = new WeakMap()

/** `stop` (may be async) runs before the test's temporary folders are removed. */
export function stopBeforeRemoval(t, stop) {
    stoppers.set(t, [...(stoppers.get(t) ?? []), stop])
}

export function tempDir(t, name = "dongle") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `smartbms-${name}-`))
    t.after(async () => {
        // after-hooks run in the order they were added, and a folder is made before the dongle that
        // uses it: a dongle still running wrote its flash while the folder was removed (ENOTEMPTY)
        for (const stop of stoppers.get(t) ?? []) await stop()
        // a hook that throws skips the hooks after it (Node 20): a broker or server left running then
        // keeps the test file from ever ending. A folder that cannot go is said, not thrown.
        try {
            fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
        } catch (e) {
            console.log(`# could not remove ${dir}: ${e.message}`)
        }
    })
    return dir
}

/** Starts a dongle with its flash and SD card in a temporary folder; host messages are collected. */
export async function startTestDongle(t, options = {}) {
    const dir = options.dir ?? tempDir(t)
    const hostMessages = []
    const dongle = await Dongle.start({
        state: path.join(dir, "state"),
        sd: path.join(dir, "sd"),
        log: m => hostMessages.push(m),
        // no Wi-Fi signal unless a test gives one (a machine on Wi-Fi would report its own)
        wirelessFile: path.join(dir, "no-wireless"),
        ...options,
        // the dongle's fixed ports on free ports of this machine: tests run side by side
        portMap: { 502: 0, 6789: 0, 6790: 0, ...(options.portMap ?? {}) },
    })
    dongle.hostMessages = hostMessages
    dongle.dir = dir
    stopBeforeRemoval(t, () => dongle.stop())
    t.after(() => dongle.stop())
    return dongle
}

/** Runs the host CLI to completion (or until `timeoutMs`), returning exit code and output. */
export function runCli(args, { timeoutMs = 20000, cwd } = {}) {
    return new Promise(resolve => {
        const child = spawn(process.execPath, [CLI, ...args], { cwd: cwd ?? os.tmpdir(), stdio: ["ignore", "pipe", "pipe"] })
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", d => (stdout += d))
        child.stderr.on("data", d => (stderr += d))
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
        child.on("close", (code, signal) => {
            clearTimeout(timer)
            resolve({ code, signal, stdout, stderr })
        })
    })
}

export const sleep = ms => new Promise(r => setTimeout(r, ms))

/**
 * Waits until the firmware's BMS poller completed `cycles` more poll cycles (its own count, read over
 * its Jacdac service): the second one began after this call, so the snapshot it published shows the
 * battery as it is now. A test that changed the battery (or sent a command) waits for this, not for
 * a fixed time: a loaded machine makes the cycles longer.
 */
export async function pollCycles(d, { cycles = 2, timeoutMs = 20000 } = {}) {
    const count = async () => (await d.bmsService.readRegister("pollStats"))[0]
    const from = await count()
    const deadline = Date.now() + timeoutMs
    for (let n = from; n < from + cycles; n = await count()) {
        if (Date.now() > deadline) throw new Error(`the firmware completed ${n - from} of ${cycles} poll cycles within ${timeoutMs} ms`)
        await sleep(50)
    }
}
