// The host runtime is fast and light (issue 13, docs/host-runtime.md): a request through the VM is
// answered in milliseconds (the VM's packet throttle of the chip, 20 ms per packet, is 1 ms on the
// host unless --chip-timing), and the VM process does not carry the whole DeviceScript toolchain.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import http from "node:http"
import ModbusRTU from "modbus-serial"
import { parseArgs } from "../../host/options.mjs"
import { startTestDongle } from "./helpers.mjs"

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

test("the VM process loads the VM alone, not the DeviceScript toolchain", async t => {
    const d = await readyDongle(t)
    const status = fs.readFileSync(`/proc/${d.vm.child.pid}/status`, "utf8")
    const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024
    // the cli bundle (compiler, debugger, ...) made it about 200 MB
    assert.ok(rssMb < 100, `VM process: ${rssMb.toFixed(0)} MB resident`)
    assert.doesNotMatch(fs.readFileSync(`/proc/${d.vm.child.pid}/cmdline`, "utf8"), /devicescript-cli/)
})
