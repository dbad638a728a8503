// The host runtime is fast and light (issue 13, docs/host-runtime.md): a request through the VM is
// answered in milliseconds (the VM's packet throttle of the chip, 20 ms per packet, is 1 ms on the
// host unless --chip-timing), and the host runtime is one process without the DeviceScript toolchain.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import http from "node:http"
import ModbusRTU from "modbus-serial"
import { parseArgs } from "../../host/options.mjs"
import { spawn } from "node:child_process"
import path from "node:path"
import { startTestDongle, tempDir, stopBeforeRemoval, CLI, sleep } from "./helpers.mjs"

const median = xs => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function modbusTimes(port, n) {
    const c = new ModbusRTU()
    await c.connectTCP("127.0.0.1", { port })
    c.setID(1)
    c.setTimeout(5000)
    try {
        for (let i = 0; i < 5; i++) await c.readHoldingRegisters(0, 40) // warm up
        const times = []
        for (let i = 0; i < n; i++) {
            const t0 = performance.now()
            const r = await c.readHoldingRegisters(0, 40)
            times.push(performance.now() - t0)
            assert.equal(r.data.length, 40)
        }
        return times
    } finally {
        await new Promise(r => c.close(r))
    }
}

async function statusTimes(port, n) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const get = () =>
        new Promise((resolve, reject) => {
            http.get({ host: "127.0.0.1", port, path: "/api/status", agent }, res => {
                let body = ""
                res.on("data", d => (body += d))
                res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`HTTP ${res.statusCode}`))))
            }).on("error", reject)
        })
    try {
        await get()
        const times = []
        for (let i = 0; i < n; i++) {
            const t0 = performance.now()
            await get()
            times.push(performance.now() - t0)
        }
        return times
    } finally {
        agent.destroy()
    }
}

async function readyDongle(t, options = {}) {
    const d = await startTestDongle(t, { bms: { cells: 16 }, ...options })
    await d.waitForLine(/^Modbus TCP: port 502/, { timeoutMs: 25000 })
    await d.waitForLine(/^BMS link: ok/)
    return d
}

test("a Modbus request and GET /api/status are answered in milliseconds, not in VM ticks", async t => {
    const d = await readyDongle(t)
    // with the chip's throttle a Modbus turn costs at least two 20 ms packets (the ack and the
    // answer) and a status answer several more: medians of 60 and 240 ms
    const modbus = median(await modbusTimes(await d.waitForPort(502), 40))
    assert.ok(modbus < 20, `Modbus 40-register read: median ${modbus.toFixed(1)} ms`)
    const status = median(await statusTimes(await d.waitForPort(6789), 20))
    assert.ok(status < 60, `GET /api/status: median ${status.toFixed(1)} ms`)
})

test("--chip-timing keeps the chip's packet throttle: a Modbus turn costs 20 ms packets again", async t => {
    assert.equal(parseArgs(["--chip-timing"]).vmPacketCostMs, 20)
    assert.equal(parseArgs([]).vmPacketCostMs, undefined)
    const d = await readyDongle(t, { vmPacketCostMs: 20 })
    const modbus = median(await modbusTimes(await d.waitForPort(502), 15))
    assert.ok(modbus >= 35, `with the chip's throttle a Modbus read waits for two 20 ms packets: median ${modbus.toFixed(1)} ms`)
})

test("the host runtime is one process that loads the VM alone, not the DeviceScript toolchain", async t => {
    const dir = tempDir(t)
    const child = spawn(process.execPath, [CLI, "--state", path.join(dir, "state"), "--sd", path.join(dir, "sd"), "--port-map", "502=0,6789=0,6790=0,8899=0"], {
        stdio: ["ignore", "pipe", "pipe"],
    })
    const ended = new Promise(r => child.once("close", r))
    stopBeforeRemoval(t, () => (child.kill("SIGKILL"), ended))
    let out = ""
    child.stdout.on("data", d => (out += d))
    const deadline = Date.now() + 30000
    while (!/^BMS: .* link ok$/m.test(out)) {
        if (Date.now() > deadline) assert.fail(`no BMS status line:\n${out}`)
        await sleep(100)
    }
    // the VM runs in the host's process: no child process, no pipe between them
    assert.equal(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim(), "")
    const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"))[1]) / 1024
    // the cli bundle (compiler, debugger, ...) alone made a process of about 200 MB; the goal is 150 MB
    assert.ok(rssMb < 150, `host runtime: ${rssMb.toFixed(0)} MB resident`)
})
