// The service contracts end to end through firmware code (test/fixtures/contract-probe.ts, which
// uses src/platform): real TCP and UDP clients, and the SD card folder on disk.
import { test } from "node:test"
import assert from "node:assert/strict"
import net from "node:net"
import dgram from "node:dgram"
import fs from "node:fs"
import path from "node:path"
import { startTestDongle, FIXTURES } from "./helpers.mjs"

const PROBE = path.join(FIXTURES, "contract-probe.devs")

function tcpSession(port) {
    const sock = net.connect(port, "127.0.0.1")
    let buf = Buffer.alloc(0)
    const waiters = []
    sock.on("data", d => {
        buf = Buffer.concat([buf, d])
        waiters.splice(0).forEach(w => w())
    })
    const closed = new Promise(resolve => sock.on("close", resolve))
    // the dongle stopped at the end of a test resets what is still open: not this test's business
    sock.on("error", () => {})
    const until = async (cond, ms = 10000) => {
        const deadline = Date.now() + ms
        while (!cond(buf)) {
            if (Date.now() > deadline) throw new Error(`timeout; have ${buf.length} bytes: ${buf.subarray(0, 80)}`)
            await new Promise(r => (waiters.push(r), setTimeout(r, 100)))
        }
        return buf
    }
    return { sock, until, closed, take: n => { const r = buf.subarray(0, n); buf = buf.subarray(n); return r } }
}

test("TCP: a client gets answers computed by the firmware, large transfers stay in order both ways", async t => {
    const d = await startTestDongle(t, { firmware: PROBE, portMap: { 7101: 0, 7102: 0 } })
    const port = await d.waitForPort(7101)
    const s = tcpSession(port)
    s.sock.write("CHECKSUM A5 40 90 08 00 00 00 00 00 00 00 00\n")
    await s.until(b => b.includes("\n"))
    assert.equal(s.take(12).toString(), "CHECKSUM 7D\n") // the checksum of the public 0x90 request

    const N = 50_000 // many packets: exercises acknowledged writes and credit
    s.sock.write(`BLOB ${N}\n`)
    await s.until(b => b.length >= N, 30000)
    const blob = s.take(N)
    for (let i = 0; i < N; i++) if (blob[i] !== (i & 0xff)) assert.fail(`byte ${i} is ${blob[i]}, expected ${i & 0xff}`)

    const upload = Buffer.alloc(40_000)
    for (let i = 0; i < upload.length; i++) upload[i] = (i * 7) & 0xff
    const sum = upload.reduce((a, b) => a + b, 0)
    s.sock.write(`UPLOAD ${upload.length}\n`)
    s.sock.write(upload) // more than the receive window: exercises back-pressure towards the client
    await s.until(b => b.includes("\n"), 30000)
    assert.equal(s.take(100).toString(), `SUM ${sum}\n`)

    s.sock.write("QUIT\n")
    await s.closed // the firmware closes, the client sees an orderly close
})

test("TCP: several clients at once are served independently", async t => {
    const d = await startTestDongle(t, { firmware: PROBE, portMap: { 7101: 0, 7102: 0 } })
    const port = await d.waitForPort(7101)
    const sessions = [0, 1, 2, 3].map(() => tcpSession(port))
    sessions.forEach((s, i) => s.sock.write(`BLOB ${3000 + i}\n`))
    await Promise.all(sessions.map((s, i) => s.until(b => b.length >= 3000 + i, 20000)))
    sessions.forEach((s, i) => {
        const b = s.take(3000 + i)
        assert.equal(b.length, 3000 + i)
        assert.equal(b[2999], 2999 & 0xff)
        s.sock.end("QUIT\n")
    })
})

test("TCP: bytes whose report was lost on the bus reach the firmware even when the peer closed at once", async t => {
    const d = await startTestDongle(t, { firmware: PROBE, portMap: { 7101: 0, 7102: 0 } })
    const port = await d.waitForPort(7101)
    d.sockets.dropDataReports(1) // the only data report of the connection is lost on the way
    const sock = net.connect(port, "127.0.0.1")
    sock.on("error", () => {})
    sock.end("LOG last words\n") // the request and the close in one go
    assert.equal(await d.waitForLine(/^probe: got /, { timeoutMs: 8000 }), "probe: got last words")
})

test("UDP: a datagram round trip through the firmware", async t => {
    const d = await startTestDongle(t, { firmware: PROBE, portMap: { 7101: 0, 7102: 0 } })
    const port = await d.waitForPort(7102)
    const client = dgram.createSocket("udp4")
    t.after(() => client.close())
    await new Promise(r => client.bind(0, "127.0.0.1", r))
    const replies = []
    client.on("message", (m, rinfo) => replies.push({ text: m.toString(), port: rinfo.port }))
    for (const msg of ["hello", "A5 40 90"]) {
        client.send(msg, port, "127.0.0.1")
        const deadline = Date.now() + 5000
        while (!replies.some(r => r.text.startsWith("ECHO " + [...msg].reverse().join("")))) {
            if (Date.now() > deadline) assert.fail(`no UDP reply to "${msg}"; got ${JSON.stringify(replies)}`)
            await new Promise(r => setTimeout(r, 20))
        }
    }
    assert.equal(replies[0].text, "ECHO olleh")
    assert.equal(replies[0].port, port)
    // a datagram larger than one Jacdac packet is reassembled whole
    const big = Buffer.alloc(1000, 0x41)
    big[0] = 0x42
    client.send(big, port, "127.0.0.1")
    const deadline = Date.now() + 5000
    while (replies.length < 3 && Date.now() < deadline) await new Promise(r => setTimeout(r, 20))
    assert.equal(replies[2].text, "ECHO " + "A".repeat(999) + "B")
})

test("File store: the firmware's file appears on the card with the right bytes; errors are named", async t => {
    const d = await startTestDongle(t, { firmware: PROBE, portMap: { 7101: 0, 7102: 0 } })
    await d.waitForLine(/^probe: bad name:/, { timeoutMs: 20000 })
    const file = path.join(d.dir, "sd", "PROBE", "BOOTS.TXT")
    const text = fs.readFileSync(file, "utf8")
    assert.match(text, /^boot at \d+ ms\n$/)
    const line = await d.waitForLine(/^probe: file size/)
    assert.equal(line, `probe: file size ${text.length}, read ${text.length} bytes, 1 entries: BOOTS.TXT`)
    assert.equal(await d.waitForLine(/^probe: after delete/), "probe: after delete: stat /PROBE/KEEP.TXT: not_found")
    assert.equal(await d.waitForLine(/^probe: bad name/), "probe: bad name: append /PROBE/much-too-long-name.txt: bad_name")
    assert.ok(!fs.existsSync(path.join(d.dir, "sd", "PROBE", "KEEP.TXT")))
})

test("File store: without a card the firmware gets a clear error and keeps running", async t => {
    const d = await startTestDongle(t, { firmware: PROBE, noSd: true, portMap: { 7101: 0, 7102: 0 } })
    assert.equal(await d.waitForLine(/^probe: file store error/, { timeoutMs: 20000 }), "probe: file store error: make folder /PROBE: no_card")
    assert.ok(d.lines.includes("probe: card present false"))
    // still serving the network
    const s = tcpSession(await d.waitForPort(7101))
    s.sock.write("CHECKSUM A5 80 95 08 00 00 00 00 00 00 00 00\n")
    assert.equal((await s.until(b => b.includes("\n"))).toString(), "CHECKSUM C2\n")
    s.sock.end("QUIT\n")
})

test("Stream sockets: a port that cannot be bound is reported to the firmware with the reason", async t => {
    const blocker = net.createServer()
    await new Promise(r => blocker.listen(0, "127.0.0.1", r))
    t.after(() => blocker.close())
    const taken = blocker.address().port
    const d = await startTestDongle(t, { firmware: PROBE, portMap: { 7101: taken, 7102: 0 } })
    const line = await d.waitForLine(/probe tcp stopped/, { timeoutMs: 20000 })
    assert.match(line, new RegExp(`address_in_use: port ${taken} is already in use on this computer; free it or use --port-map 7101=OTHER`))
    assert.ok(d.hostMessages.some(m => m.includes(`port ${taken} is already in use`)))
    await d.waitForPort(7102) // the rest of the firmware runs on
})
