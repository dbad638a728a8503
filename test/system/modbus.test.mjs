// The Modbus TCP server with a real client library (modbus-serial): the register map against the
// virtual BMS, every exception, writes, several clients, malformed frames.
import { test } from "node:test"
import assert from "node:assert/strict"
import net from "node:net"
import ModbusRTU from "modbus-serial"
import { startTestDongle, sleep, pollCycles } from "./helpers.mjs"

async function modbusDongle(t, options = {}) {
    const d = await startTestDongle(t, { bms: { cells: 16, temperatureSensors: 3, current: -12.3, capacityAh: 5000, soc: 77.7 }, ...options })
    await d.waitForLine(/^Modbus TCP: port 502/, { timeoutMs: 25000 })
    await d.waitForLine(/^BMS link: ok/)
    return { d, port: await d.waitForPort(502) }
}

async function client(t, port, unit = 1) {
    const c = new ModbusRTU()
    await c.connectTCP("127.0.0.1", { port })
    c.setID(unit)
    c.setTimeout(5000)
    t.after(() => c.close(() => {}))
    return c
}

async function exceptionOf(promise) {
    try {
        await promise
    } catch (e) {
        return e.modbusCode ?? e.message
    }
    return "no exception"
}

test("every register of the map matches the virtual BMS (function codes 3 and 4)", async t => {
    const { d, port } = await modbusDongle(t)
    const c = await client(t, port)
    const m = d.bms.model
    const block = (await c.readHoldingRegisters(0, 0x5d)).data
    const input = (await c.readInputRegisters(0, 0x5d)).data
    assert.deepEqual(input, block, "function codes 3 and 4 read the same map")
    const cells = m.cellVoltagesMv()
    assert.deepEqual(block.slice(0, 16), cells)
    assert.deepEqual(block.slice(16, 48), new Array(32).fill(0))
    assert.deepEqual(block.slice(0x30, 0x33), m.temperaturesC().map(c => c + 40))
    assert.equal(block[0x38], m.packVoltageDv())
    assert.equal(block[0x39], 30000 - 123)
    assert.equal(block[0x3a], Math.round(m.soc * 10))
    assert.equal(block[0x3c], 16)
    assert.equal(block[0x3d], 3)
    assert.equal(block[0x3e], Math.max(...cells))
    assert.equal(block[0x3f], cells.indexOf(Math.max(...cells)) + 1)
    assert.equal(block[0x40], Math.min(...cells))
    assert.equal(block[0x41], cells.indexOf(Math.min(...cells)) + 1)
    assert.equal(block[0x42], Math.max(...cells) - Math.min(...cells))
    assert.equal(block[0x48], 2, "discharging")
    assert.ok(Math.abs(block[0x4b] - Math.round(m.remainingAh * 10)) <= 1)
    assert.equal(block[0x4c], m.cycles)
    assert.equal(block[0x52], 1)
    assert.equal(block[0x53], 1)
    const power = block[0x58] >= 0x8000 ? block[0x58] - 0x10000 : block[0x58]
    assert.ok(Math.abs(power - (m.packVoltageDv() / 10) * -12.3) <= 1, `power ${power} W`)
    const temps = m.temperaturesC()
    const tMax = Math.max(...temps), tMin = Math.min(...temps)
    assert.deepEqual(block.slice(0x43, 0x48), [tMax + 40, temps.indexOf(tMax) + 1, tMin + 40, temps.indexOf(tMin) + 1, tMax - tMin])
    assert.deepEqual(block.slice(0x49, 0x4b), [0, 0], "no charger, no load")
    assert.equal(block[0x3b], 0, "SOH is not reported")
    assert.deepEqual(block.slice(0x4d, 0x52), [0, 0, 0, 0, 0], "no balancing")
    assert.deepEqual(block.slice(0x54, 0x57), [0, 0, 0])
    assert.equal(block[0x57], 0, "digital I/O")
    assert.deepEqual(block.slice(0x59, 0x5d), [0, 0, 0, 0])
    assert.deepEqual((await c.readHoldingRegisters(0x66, 4)).data, [0, 0, 0, 0])
    assert.deepEqual((await c.readHoldingRegisters(0x121, 2)).data, [1, 1])

    // charging a full pack: balancing, charger, digital I/O and alarms appear in their registers
    m.soc = 98
    m.current = 20
    m.chargerPresent = true
    m.digitalIO = 0x21
    m.forcedAlarms[1] = 0x04
    m.faultCode = 7
    await pollCycles(d)
    const bits = m.balancingBits()
    assert.ok(bits > 0n, "the model balances")
    const b2 = (await c.readHoldingRegisters(0x48, 0x10)).data
    assert.equal(b2[0], 1, "charging")
    assert.equal(b2[1], 1, "charger present")
    assert.equal(b2[0x4d - 0x48], 1, "balancing active")
    assert.equal(b2[0x4f - 0x48], Number(bits & 0xffffn))
    assert.equal((await c.readHoldingRegisters(0x57, 1)).data[0], 0x21)
    assert.deepEqual((await c.readHoldingRegisters(0x66, 4)).data, [0x0004, 0, 0, 7], "B1 bit 2 and fault code 7")
})

test("exceptions: illegal function, address, value; gateway target while the BMS sleeps; wrong unit", async t => {
    const { d, port } = await modbusDongle(t)
    const c = await client(t, port)
    assert.equal(await exceptionOf(c.readCoils(0, 1)), 1)
    assert.equal(await exceptionOf(c.readHoldingRegisters(0x5b, 4)), 2, "0x5D is outside the map")
    assert.equal(await exceptionOf(c.readHoldingRegisters(0x200, 1)), 2)
    assert.equal(await exceptionOf(c.readHoldingRegisters(0, 126)), 3)
    assert.equal(await exceptionOf(c.writeRegister(0x121, 0)), 1, "writes are off by default")
    const other = await client(t, port, 7)
    assert.equal(await exceptionOf(other.readHoldingRegisters(0, 1)), 0x0a)
    d.bms.sleep()
    await d.waitForLine(/^BMS link: bms_data_error/, { since: 0, timeoutMs: 10000 })
    assert.equal(await exceptionOf(c.readHoldingRegisters(0x38, 3)), 0x0b)
    d.bms.wake()
    await d.waitForLine(/^BMS link: ok/, { since: d.mark(), timeoutMs: 10000 })
    assert.equal((await c.readHoldingRegisters(0x3c, 1)).data[0], 16)
})

test("writes: refused when disabled, applied to the BMS when enabled; bad writes refused", async t => {
    const dir = (await import("./helpers.mjs")).tempDir(t)
    const first = await startTestDongle(t, { dir })
    await first.waitForLine(/^Reset counter 1: /, { timeoutMs: 20000 })
    await first.writeFirmwareSetting("ports", { mbWrite: true })
    await first.settleFlash()
    await first.stop()
    const { d, port } = await modbusDongle(t, { dir })
    await d.waitForLine(/^Modbus TCP: port 502, unit id 1, writes enabled/)
    const c = await client(t, port)
    await c.writeRegister(0x121, 0)
    assert.equal(d.bms.model.chargeMos, false)
    await c.writeRegisters(0x121, [1, 0])
    assert.equal(d.bms.model.chargeMos, true)
    assert.equal(d.bms.model.dischargeMos, false)
    await pollCycles(d)
    assert.deepEqual((await c.readHoldingRegisters(0x52, 2)).data, [1, 0])
    assert.equal(await exceptionOf(c.writeRegister(0x121, 2)), 3)
    assert.equal(await exceptionOf(c.writeRegister(0x38, 1)), 2)
})

test("four clients at once; a fifth is refused cleanly; malformed frames close only their connection", async t => {
    const { port } = await modbusDongle(t)
    const clients = []
    for (let i = 0; i < 4; i++) clients.push(await client(t, port))
    const reads = await Promise.all(clients.map(c => c.readHoldingRegisters(0x3c, 2)))
    for (const r of reads) assert.deepEqual(r.data, [16, 3])
    // the fifth is accepted by the stack and closed at once
    const fifth = net.connect(port, "127.0.0.1")
    const closed = await new Promise(resolve => {
        fifth.on("close", () => resolve(true))
        fifth.on("error", () => {})
        setTimeout(() => resolve(false), 5000)
    })
    assert.ok(closed, "the fifth connection was closed")
    // a bad protocol id closes that connection; the others go on
    await new Promise(r => clients[0].close(r))
    const bad = await served(port) // the server frees the place once it closed its end
    const badClosed = new Promise(resolve => {
        bad.on("close", () => resolve(true))
        setTimeout(() => resolve(false), 5000)
    })
    bad.write(Buffer.from([0, 1, 0, 9, 0, 6, 1, 3, 0, 0, 0, 1]))
    assert.ok(await badClosed)
    assert.deepEqual((await clients[1].readHoldingRegisters(0x3c, 1)).data, [16])
    // a PDU of the wrong length gets an exception, not a crash
    const raw = await served(port)
    const reply = new Promise(r => (raw.once("data", r), raw.once("close", () => r(Buffer.from("closed")))))
    raw.write(Buffer.from([0, 2, 0, 0, 0, 4, 1, 3, 0, 0]))
    assert.deepEqual([...(await reply)], [0, 2, 0, 0, 0, 3, 1, 0x83, 3])
    raw.destroy()
})

/**
 * A raw connection the server serves (a read answered on it). The server frees a place only after
 * closing its end of a connection that went (a round trip to the socket service), and closes a
 * connection over its limit at once: one closed unanswered is tried again, for up to 10 s.
 */
async function served(port) {
    const deadline = Date.now() + 10000
    for (;;) {
        const s = net.connect(port, "127.0.0.1")
        s.on("error", () => {})
        const answer = await new Promise(resolve => {
            s.once("data", resolve)
            s.once("close", () => resolve(null))
            s.once("connect", () => s.write(Buffer.from([0, 7, 0, 0, 0, 6, 1, 3, 0, 0x3c, 0, 1])))
            setTimeout(() => resolve(null), 5000)
        })
        if (answer) {
            assert.deepEqual([...answer], [0, 7, 0, 0, 0, 5, 1, 3, 2, 0, 16])
            return s
        }
        s.destroy()
        if (Date.now() > deadline) assert.fail("no place freed for a new connection within 10 s")
        await sleep(100)
    }
}
