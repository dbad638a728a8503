// The PCMaster bridge: a UDP client speaking the Daly protocol reaches the virtual BMS through the
// dongle and gets its bytes exactly; polling pauses during the session and resumes after it; one
// session at a time; can be disabled.
import { test } from "node:test"
import assert from "node:assert/strict"
import dgram from "node:dgram"
import { startTestDongle, sleep, tempDir } from "./helpers.mjs"
import { checksum } from "../../host/bms/daly-frame.mjs"
import { crcOk, readRequest, writeRequest } from "../../host/bms/modbus-frame.mjs"

function request(id, address = 0x40) {
    const f = Buffer.alloc(13)
    f[0] = 0xa5
    f[1] = address
    f[2] = id
    f[3] = 8
    f[12] = checksum(f)
    return f
}

async function udpClient(t) {
    const s = dgram.createSocket("udp4")
    await new Promise(r => s.bind(0, "127.0.0.1", r))
    t.after(() => s.close())
    const inbox = []
    s.on("message", m => inbox.push(m))
    return {
        inbox,
        async ask(port, bytes, waitMs = 1500) {
            const before = inbox.length
            s.send(bytes, port, "127.0.0.1")
            const deadline = Date.now() + waitMs
            while (inbox.length === before && Date.now() < deadline) await sleep(10)
            return inbox[before]
        },
    }
}

test("PCMaster reads 0x90 and every cell frame through the bridge, byte for byte; polling pauses and resumes", async t => {
    const d = await startTestDongle(t, { bms: { cells: 16, soc: 55.5 } })
    await d.waitForLine(/^PCMaster bridge: UDP port 6790/, { timeoutMs: 25000 })
    await d.waitForLine(/^BMS link: ok/)
    const port = await d.waitForPort(6790)
    const pc = await udpClient(t)
    const since = d.mark()
    const reply90 = await pc.ask(port, request(0x90))
    await d.waitForLine(/^PCMaster: session from 127\.0\.0\.1:\d+; BMS polling paused$/, { since })
    assert.deepEqual(reply90, Buffer.concat(d.bms.respond({ dataId: 0x90, data: Buffer.alloc(8) })))
    const cells = await pc.ask(port, request(0x95))
    assert.equal(cells.length, 6 * 13, "the multi-frame reply travels whole")
    assert.deepEqual(cells, Buffer.concat(d.bms.cellFrames(6)))
    // while the session lasts, only the client talks to the BMS
    const from = Date.now() // by time, not by index: the BMS keeps its last 200 requests only
    await sleep(2000)
    const during = d.bms.requestLog.filter(r => r.at >= from)
    assert.equal(during.length, 0, `the dongle's polling is paused (${during.length} requests)`)
    assert.equal((await d.bmsService.read()).link, "ok")
    // settings writes of PCMaster (no reply from a real BMS) pass through unchanged
    const write = Buffer.from([0xa5, 0x40, 0x10, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0])
    write[12] = checksum(write)
    assert.equal(await pc.ask(port, write, 300), undefined, "the BMS does not answer a settings write")
    const last = d.bms.requestLog.at(-1)
    assert.equal(last.dataId, 0x10)
    assert.deepEqual([...last.data], [1, 2, 3, 4, 5, 6, 7, 8])
    // idle: the session ends and polling resumes
    const idle = d.mark()
    await d.waitForLine(/^PCMaster: session ended after 10 s idle; BMS polling resumed$/, { since: idle, timeoutMs: 15000 })
    const resumed = d.bms.stats.requests // a count: the request log keeps the last 200 only
    // a full cycle is 9+ requests in about half a second; under a loaded machine it once took longer
    // than 1.5 s to begin (seen in full runs, not alone): give it 5 s, and say how long it took
    const deadline = Date.now() + 5000
    while (d.bms.stats.requests - resumed <= 5 && Date.now() < deadline) await sleep(100)
    assert.ok(d.bms.stats.requests - resumed > 5, `polling again (${d.bms.stats.requests - resumed} requests in 5 s)`)
})

for (const [protocol, address, reply] of [["d2", 0xd2, 0xd2], ["81", 0x81, 0x51]]) {
    test(`the newer protocol (${protocol}) through the bridge: replies whole, byte for byte, writes echoed`, async t => {
        const d = await startTestDongle(t, { bms: { protocol, cells: 16 } })
        await d.waitForLine(/^PCMaster bridge: UDP port 6790/, { timeoutMs: 25000 })
        await d.waitForLine(/^BMS link: ok/)
        const port = await d.waitForPort(6790)
        const pc = await udpClient(t)
        const count = protocol === "d2" ? 80 : 64
        const live = await pc.ask(port, readRequest(address, 0, count))
        assert.equal(live.length, 5 + 2 * count, "the whole reply in one datagram")
        assert.deepEqual([live[0], live[1], live[2]], [reply, 3, 2 * count])
        assert.ok(crcOk(live), "CRC low byte first, as the BMS sent it")
        assert.equal(live.readUInt16BE(3), d.bms.model.cellVoltagesMv()[0])
        const chg = protocol === "d2" ? 0xa5 : 0x121
        const echo = await pc.ask(port, writeRequest(address, chg, 0))
        assert.deepEqual(echo, Buffer.concat([Buffer.from([reply]), writeRequest(address, chg, 0).subarray(1, 6), echo.subarray(6)]))
        assert.ok(crcOk(echo))
        assert.equal(d.bms.model.chargeMos, false)
    })
}

test("one session at a time: a second client gets nothing and the console says why", async t => {
    const d = await startTestDongle(t, { bms: { cells: 4 } })
    await d.waitForLine(/^PCMaster bridge: UDP port 6790/, { timeoutMs: 25000 })
    const port = await d.waitForPort(6790)
    const first = await udpClient(t)
    const second = await udpClient(t)
    assert.ok(await first.ask(port, request(0x90)))
    assert.equal(await second.ask(port, request(0x90), 1000), undefined)
    await d.waitForLine(/^PCMaster: ignoring 127\.0\.0\.1:\d+: the session of 127\.0\.0\.1:\d+ is active$/)
    assert.ok(await first.ask(port, request(0x91)), "the first client goes on")
})

test("the bridge can be disabled", async t => {
    const dir = tempDir(t)
    const first = await startTestDongle(t, { dir })
    await first.waitForLine(/^Reset counter 1: /, { timeoutMs: 20000 })
    await first.writeFirmwareSetting("ports", { pcm: false })
    await first.settleFlash()
    await first.stop()
    const d = await startTestDongle(t, { dir })
    await d.waitForLine("PCMaster bridge: disabled", { timeoutMs: 25000 })
    assert.equal(d.sockets.hostPort(6790), undefined)
})
