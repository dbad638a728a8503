// Nothing takes the dongle down: random and malformed input on every port at once (HTTP, Modbus TCP,
// PCMaster UDP), an MQTT broker and an FTP server that answer garbage or hang, and a BMS stream with
// garbage, while the BMS is polled and the SD card logs. Afterwards the dongle never restarted, every
// port answers correctly, no BMS value was wrong, and no SD row written before was changed.
// Loopback only; bounded (FUZZ_MS of input, about a minute in all); a seeded PRNG, so a failing run
// can be replayed with the same seed (SMARTBMS_FUZZ_SEED).
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import net from "node:net"
import dgram from "node:dgram"
import ModbusRTU from "modbus-serial"
import { checksum } from "../../host/bms/daly-frame.mjs"
import { startTestDongle, sleep } from "./helpers.mjs"

const FUZZ_MS = 40000
const SEED = Number(process.env.SMARTBMS_FUZZ_SEED ?? 20261122)

/** mulberry32: a small seeded PRNG */
function prng(seed) {
    let a = seed >>> 0
    const next = () => {
        a = (a + 0x6d2b79f5) >>> 0
        let t = a
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    const int = n => Math.floor(next() * n)
    const bytes = n => Buffer.from(Array.from({ length: n }, () => int(256)))
    const pick = list => list[int(list.length)]
    return { next, int, bytes, pick }
}

/** A TCP server that answers every connection with garbage, or never answers, or answers then hangs. */
async function hostileServer(t, rnd) {
    const sockets = new Set()
    const server = net.createServer(sock => {
        sockets.add(sock)
        sock.on("error", () => {})
        sock.on("close", () => sockets.delete(sock))
        const mode = rnd.int(3)
        if (mode === 0) sock.write(rnd.bytes(1 + rnd.int(4000)))
        else if (mode === 1) sock.on("data", () => sock.write(rnd.bytes(1 + rnd.int(300))))
        // mode 2: hangs, says nothing
    })
    await new Promise(r => server.listen(0, "127.0.0.1", r))
    t.after(() => {
        for (const s of sockets) s.destroy()
        server.close()
    })
    return server.address().port
}

async function statusOf(port) {
    const r = await fetch(`http://127.0.0.1:${port}/api/status`, { signal: AbortSignal.timeout(8000) })
    return { code: r.status, body: await r.json() }
}

const sdFiles = dir => {
    const out = {}
    for (const kind of ["LOG", "CELL"]) {
        const folder = path.join(dir, "sd", kind)
        if (fs.existsSync(folder)) for (const f of fs.readdirSync(folder)) out[`${kind}/${f}`] = fs.readFileSync(path.join(folder, f), "utf8")
    }
    return out
}

/** Random HTTP-ish input on one connection: garbage, huge heads, bad request lines, slow clients. */
async function httpAbuse(port, rnd, until) {
    const shapes = [
        () => [rnd.bytes(1 + rnd.int(3000))],
        () => [`GET /${"a".repeat(5000)} HTTP/1.1\r\n\r\n`],
        () => [`GET / HTTP/1.1\r\nX: ${"b".repeat(4000)}\r\n\r\n`],
        () => [`POST /api/settings HTTP/1.1\r\nContent-Length: 99999\r\n\r\n`, rnd.bytes(500)],
        () => [`BREW /coffee HTCPCP/1.0\r\n\r\n`],
        () => [`GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n`, rnd.bytes(200)],
        () => [`GET /api/status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`],
        () => ["G", "E", "T", " ", "/"], // a slow client that never finishes
    ]
    while (Date.now() < until) {
        const parts = rnd.pick(shapes)()
        await new Promise(resolve => {
            const sock = net.connect(port, "127.0.0.1")
            const done = () => (sock.destroy(), resolve())
            sock.setTimeout(6000, done)
            sock.on("error", done)
            sock.on("close", resolve)
            sock.on("data", () => {})
            sock.on("connect", async () => {
                for (const p of parts) {
                    if (sock.destroyed) break
                    sock.write(p)
                    await sleep(parts.length > 2 ? 300 : 5)
                }
                if (rnd.int(2)) sock.end()
            })
        })
    }
}

async function modbusAbuse(port, rnd, until) {
    const shapes = [
        () => rnd.bytes(1 + rnd.int(600)),
        () => Buffer.from([0, 1, 0, 0, 0xff, 0xff, 1, 3, 0, 0, 0, 10]), // length far over the frame
        () => Buffer.from([0, 1, 0, 7, 0, 6, 1, 3, 0, 0, 0, 125]), // protocol id not 0
        () => Buffer.from([0, 1, 0, 0, 0, 1, 1]), // length too short
        () => Buffer.from([0, 1, 0, 0, 0, 6, 1, 0x2b, 0x0e, 1, 0, 0]), // function not supported
        () => Buffer.concat(Array.from({ length: 40 }, () => Buffer.from([0, 2, 0, 0, 0, 6, 1, 3, 0, 0x38, 0, 1]))), // a pipelined flood
    ]
    while (Date.now() < until) {
        const bytes = rnd.pick(shapes)()
        await new Promise(resolve => {
            const sock = net.connect(port, "127.0.0.1")
            const done = () => (sock.destroy(), resolve())
            sock.setTimeout(4000, done)
            sock.on("error", done)
            sock.on("close", resolve)
            sock.on("data", () => {})
            sock.on("connect", () => {
                sock.write(bytes)
                setTimeout(done, 200 + rnd.int(800))
            })
        })
    }
}

/** Bursts of 300 random datagrams of 0 to 1400 bytes in about 2 s (the case of the issue). */
async function udpAbuse(port, rnd, until) {
    const s = dgram.createSocket("udp4")
    await new Promise(r => s.bind(0, "127.0.0.1", r))
    let sent = 0
    while (Date.now() < until) {
        for (let i = 0; i < 300 && Date.now() < until; i++) {
            s.send(rnd.bytes(rnd.int(1401)), port, "127.0.0.1")
            sent++
            if (i % 10 === 9) await sleep(65)
        }
        await sleep(2000)
    }
    s.close()
    return sent
}

test("random and malformed input on every port at once: no restart, every port answers, no wrong value, no SD row changed", { timeout: 150000 }, async t => {
    const rnd = prng(SEED)
    t.diagnostic(`seed ${SEED}`)
    const brokerPort = await hostileServer(t, prng(SEED + 1))
    const ftpPort = await hostileServer(t, prng(SEED + 2))
    const d = await startTestDongle(t, { bms: { cells: 16, temperatureSensors: 2, soc: 64.5, seed: SEED }, echo: !!process.env.ROBUST_ECHO })
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("sdlog", { on: true, period: 1, cells: true })
    await d.writeFirmwareSetting("mqtt", { on: true, host: "127.0.0.1", port: brokerPort, period: 2 })
    await d.writeFirmwareSetting("ftp", { on: true, host: "127.0.0.1", port: ftpPort, period: 10, cells: true })
    await d.writeFirmwareSetting("ftpAuth", { user: "u", pass: "p" })
    await d.settleFlash()
    const boot = d.mark()
    await d.reset()
    await d.waitForLine(/^BMS link: ok/, { since: boot, timeoutMs: 20000 })
    const web = await d.waitForPort(6789)
    const modbus = await d.waitForPort(502)
    const pcm = await d.waitForPort(6790)
    await d.waitForLine(/^SD log: writing /, { since: boot, timeoutMs: 20000 })
    await sleep(3000)
    const vm = d.vm
    const boots = d.boots
    const sdBefore = sdFiles(d.dir)
    assert.ok(Object.keys(sdBefore).length >= 2, "main and cell logs exist")
    const m = d.bms.model
    const want = { voltage_v: m.packVoltageDv() / 10, soc_pct: Math.round(m.soc * 10) / 10, cells_mv: m.cellVoltagesMv(), temps_c: m.temperaturesC() }
    const startedAt = Date.now()
    const uptimeBefore = (await statusOf(web)).body.device.uptime_s

    d.bms.setFaults({ rate: 0.1, kinds: ["garbage", "bad_checksum", "truncated", "stale_frame", "extra_frames"] })
    const until = Date.now() + FUZZ_MS
    let checks = 0
    let current = 0
    const failures = []
    const checker = (async () => {
        while (Date.now() < until) {
            await sleep(1000)
            let s
            try {
                s = await statusOf(web)
            } catch (e) {
                failures.push(e.message)
                continue // a request may wait behind the flood; the final checks need every port
            }
            checks++
            const b = s.body.bms
            if (b.link !== "ok") continue
            current++
            assert.deepEqual({ voltage_v: b.voltage_v, soc_pct: b.soc_pct, cells_mv: b.cells_mv, temps_c: b.temps_c }, want, `status at check ${checks}`)
        }
    })()
    const [udpSent] = await Promise.all([
        udpAbuse(pcm, prng(SEED + 3), until),
        httpAbuse(web, prng(SEED + 4), until),
        httpAbuse(web, prng(SEED + 5), until),
        httpAbuse(web, prng(SEED + 6), until),
        modbusAbuse(modbus, prng(SEED + 7), until),
        modbusAbuse(modbus, prng(SEED + 8), until),
        checker,
    ])
    d.bms.setFaults({ rate: 0 })
    t.diagnostic(`status requests that failed during the flood: ${failures.length} (${[...new Set(failures)].join("; ")})`)
    t.diagnostic(`${udpSent} datagrams, ${d.bms.stats.faults} BMS faults, ${checks} status checks (${current} with the link ok)`)
    assert.ok(d.bms.stats.faults > 20, `${d.bms.stats.faults} BMS faults injected`)
    assert.ok(current >= 10, `${current} status checks with current values during the flood`)
    await sleep(6000) // the slow clients' connections time out; the BMS link settles

    // never restarted: the same VM, no crash, uptime continuous
    assert.equal(d.vm, vm, "the VM was not restarted")
    assert.equal(d.boots, boots)
    const since = d.linesSince(boot)
    assert.ok(!since.some(l => /PANIC|Exception|Unhandled/.test(l)), since.filter(l => /PANIC|Exception|Unhandled/.test(l)).join("\n"))
    assert.ok(!d.hostMessages.some(m => /crashed/.test(m)))

    // every port answers correctly
    const s = await statusOf(web)
    assert.equal(s.code, 200)
    assert.ok(s.body.device.uptime_s >= uptimeBefore + Math.floor((Date.now() - startedAt) / 1000) - 2, "uptime is continuous")
    assert.equal(s.body.bms.link, "ok")
    assert.deepEqual({ voltage_v: s.body.bms.voltage_v, soc_pct: s.body.bms.soc_pct, cells_mv: s.body.bms.cells_mv, temps_c: s.body.bms.temps_c }, want)
    const c = new ModbusRTU()
    await c.connectTCP("127.0.0.1", { port: modbus })
    c.setID(1)
    c.setTimeout(5000)
    t.after(() => c.close(() => {}))
    const regs = (await c.readHoldingRegisters(0, 16)).data
    assert.deepEqual(regs, want.cells_mv)
    assert.equal((await c.readHoldingRegisters(0x38, 1)).data[0], m.packVoltageDv())
    const udp = dgram.createSocket("udp4")
    await new Promise(r => udp.bind(0, "127.0.0.1", r))
    t.after(() => udp.close())
    const reply = new Promise(r => udp.once("message", r))
    const req = Buffer.alloc(13)
    req.set([0xa5, 0x40, 0x90, 8])
    req[12] = checksum(req)
    udp.send(req, pcm, "127.0.0.1")
    const frame = await Promise.race([reply, sleep(3000).then(() => null)])
    assert.ok(frame, "the PCMaster bridge answers")
    assert.deepEqual([...frame.subarray(0, 4)], [0xa5, 0x01, 0x90, 8])
    assert.equal(frame.readUInt16BE(4), m.packVoltageDv())

    // no SD row written before the flood was changed: each file then is a prefix of the file now
    const sdAfter = sdFiles(d.dir)
    for (const [name, text] of Object.entries(sdBefore)) {
        assert.ok(sdAfter[name].startsWith(text), `${name} kept its rows`)
        assert.ok(sdAfter[name].length > text.length, `${name} went on logging`)
    }
})
