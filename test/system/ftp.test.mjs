// FTP upload against a real FTP server on loopback (ftp-srv): files arrive with the card's exact
// bytes under their final names, LOGSENT.TXT and CELLSENT.TXT list what was sent; a wrong password,
// a stopped server and a cut transfer record nothing and succeed at the next period; resend works.
// A file that grew goes up as SIZE + APPE of its new bytes only (the server's command and byte log
// proves it); a server refusing SIZE or APPE gets the whole file; a cut append is repaired.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { FtpSrv, FileSystem } from "ftp-srv"
import { startTestDongle, tempDir, sleep } from "./helpers.mjs"

const USER = "logger"
const PASSWORD = "ftp-secret-1"

async function ftpServer(t, root, port = 0, { rejectLogins = 0 } = {}) {
    let rejected = 0
    const server = new FtpSrv({ url: `ftp://127.0.0.1:${port}`, pasv_url: "127.0.0.1", pasv_min: 40000, pasv_max: 40999, anonymous: false, greeting: "test server", log: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return this } } })
    server.on("login", ({ username, password }, resolve, reject) => {
        if (username === USER && password === PASSWORD && rejected++ >= rejectLogins) resolve({ root })
        else reject(new Error("wrong user or password"))
    })
    await server.listen()
    t.after(() => server.close().catch(() => {}))
    return { server, port: server.server.address().port }
}

/**
 * An ftp-srv that logs, on the server side, every command (`commands`) and every file written with
 * the bytes it received (`writes`: { name, append, bytes }). `login(n)` (n = 0, 1, ...) may return
 * commands refused in that session: "APPE" is answered 550 by the file system (ftp-srv's blacklist
 * would leave the data connection open, paused, for ever), others 502 (blacklisted).
 * `onData(write, chunk, connection)` may take over a chunk.
 */
async function recordingServer(t, root, { login = () => [], onData = () => false } = {}) {
    const commands = []
    const writes = []
    let logins = 0
    class RecordingFs extends FileSystem {
        write(fileName, options = {}) {
            if (options.append && this.refused.includes("APPE")) throw new Error("appending is not allowed here")
            const r = super.write(fileName, options)
            const w = { name: fileName, append: !!options.append, bytes: 0 }
            writes.push(w)
            const write = r.stream.write.bind(r.stream)
            r.stream.write = (chunk, ...rest) => {
                if (onData(w, chunk, this.connection)) return true
                w.bytes += chunk.length
                return write(chunk, ...rest)
            }
            return r
        }
    }
    const server = new FtpSrv({ url: "ftp://127.0.0.1:0", pasv_url: "127.0.0.1", pasv_min: 41000, pasv_max: 41999, anonymous: false, greeting: "test server", log: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return this } } })
    server.on("client-error", () => {})
    server.on("login", ({ connection, username, password }, resolve, reject) => {
        if (username !== USER || password !== PASSWORD) return reject(new Error("wrong user or password"))
        const handle = connection.commands.handle.bind(connection.commands)
        connection.commands.handle = m => {
            commands.push(m)
            return handle(m)
        }
        const refused = login(logins++)
        const files = new RecordingFs(connection, { root, cwd: "/" })
        files.refused = refused
        resolve({ fs: files, blacklist: refused.filter(c => c !== "APPE") })
    })
    await server.listen()
    t.after(() => server.close().catch(() => {}))
    return { server, port: server.server.address().port, commands, writes }
}

/** The name of today's main log (the one the dongle writes, not the older day). */
function todayLog(d) {
    return fs.readdirSync(path.join(d.dir, "sd", "LOG")).find(n => n.endsWith(".CSV") && n !== "20261120.CSV")
}

/** A dongle logging every second (cells too), uploading every 10 s to 127.0.0.1:port. */
async function uploadingDongle(t, port, extra = {}) {
    const d = await startTestDongle(t, { bms: { cells: 4, temperatureSensors: 1 }, ...extra })
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    // a closed day already on the card
    fs.mkdirSync(path.join(d.dir, "sd", "LOG"), { recursive: true })
    fs.writeFileSync(path.join(d.dir, "sd", "LOG", "20261120.CSV"), "# an older day\r\ntime,voltage_V\r\n" + "2026-11-20T12:00:00,53.1\r\n".repeat(400))
    await d.writeFirmwareSetting("sdlog", { on: true, period: 1, cells: true })
    await d.writeFirmwareSetting("ftp", { on: true, host: "127.0.0.1", port, period: 10, cells: true })
    await d.writeFirmwareSetting("ftpAuth", { user: USER, pass: PASSWORD })
    await d.settleFlash()
    d.bootMark = d.mark()
    await d.reset()
    await d.waitForLine(/^FTP: 127\.0\.0\.1:\d+ every 10 s, with cell logs$/, { since: d.bootMark, timeoutMs: 25000 })
    return d
}

function sentList(d, name) {
    const f = path.join(d.dir, "sd", name)
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\r\n").filter(Boolean).map(l => l.split(",")) : []
}

test("every log goes up with the card's bytes under its final name; *SENT.TXT list them", async t => {
    const root = tempDir(t, "ftproot")
    const { port } = await ftpServer(t, root)
    const d = await uploadingDongle(t, port)
    await d.waitForLine(/^FTP: \d+ files sent$/, { since: d.bootMark, timeoutMs: 40000 })
    const older = fs.readFileSync(path.join(d.dir, "sd", "LOG", "20261120.CSV"))
    assert.deepEqual(fs.readFileSync(path.join(root, "LOG", "20261120.CSV")), older)
    const sent = sentList(d, "LOGSENT.TXT")
    const names = sent.map(r => r[0])
    assert.ok(names.includes("20261120.CSV"))
    for (const [name, size, time] of sent) {
        assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/)
        const remote = fs.readFileSync(path.join(root, "LOG", name))
        assert.equal(remote.length, Number(size), `${name}: the size recorded is the size sent`)
        assert.deepEqual(remote, fs.readFileSync(path.join(d.dir, "sd", "LOG", name)).subarray(0, Number(size)))
    }
    assert.ok(sentList(d, "CELLSENT.TXT").length >= 1, "cell logs sent")
    assert.ok(!fs.readdirSync(path.join(root, "LOG")).some(n => n.endsWith(".part")), "no half files left")
    const api = await (await fetch(`http://127.0.0.1:${await d.waitForPort(6789)}/api/status`)).json()
    assert.match(api.ftp.last_success, /^\d{4}-/)
    assert.match(api.ftp.last_login, /^\d{4}-/)
    // the next period sends today's file again as it grew, and only that
    const before = sentList(d, "LOGSENT.TXT").length
    await d.waitForLine(/^FTP: (\d+ files sent|nothing new to send)$/, { since: d.mark(), timeoutMs: 20000 })
    const again = sentList(d, "LOGSENT.TXT").slice(before).map(r => r[0])
    assert.ok(!again.includes("20261120.CSV"), "a closed day is not sent twice")
})

test("a wrong password records nothing and the next period succeeds", async t => {
    const root = tempDir(t, "ftproot")
    const { port } = await ftpServer(t, root, 0, { rejectLogins: 1 })
    const d = await uploadingDongle(t, port)
    await d.waitForLine(/^FTP: login \(wrong user or password\?\): 530 .*; nothing recorded as sent, retried at the next period$/, { since: d.bootMark, timeoutMs: 40000 })
    assert.equal(sentList(d, "LOGSENT.TXT").length, 0)
    await d.waitForLine(/^Journal \d+: ftp_failure since/, { since: d.bootMark, timeoutMs: 10000 })
    await d.waitForLine(/^FTP: \d+ files sent$/, { since: d.bootMark, timeoutMs: 30000 })
    assert.ok(sentList(d, "LOGSENT.TXT").length >= 2)
    await d.waitForLine(/^Journal \d+: ftp_failure cleared/, { since: d.bootMark, timeoutMs: 10000 })
})

test("a stopped server, then a transfer cut in the middle: nothing recorded, success when it is back", async t => {
    const root = tempDir(t, "ftproot")
    const first = await ftpServer(t, root)
    const port = first.port
    await first.server.close()
    const d = await uploadingDongle(t, port)
    await d.waitForLine(/^FTP: cannot connect to 127\.0\.0\.1:\d+: refused: .*; nothing recorded as sent/, { since: d.bootMark, timeoutMs: 40000 })
    assert.equal(sentList(d, "LOGSENT.TXT").length, 0)
    // back, but it goes away during the first upload
    const second = await ftpServer(t, root, port)
    second.server.on("client-error", () => {})
    second.server.on("login", () => {})
    const cut = setInterval(() => {
        const part = path.join(root, "LOG", "20261120.CSV.part")
        if (fs.existsSync(part) && fs.statSync(part).size > 0) {
            clearInterval(cut)
            for (const c of Object.values(second.server.connections)) c.close().catch(() => {})
        }
    }, 5)
    t.after(() => clearInterval(cut))
    await d.waitForLine(/^FTP: (upload|rename|no answer|the server closed).*; nothing recorded as sent/, { since: d.mark(), timeoutMs: 40000 })
    assert.equal(sentList(d, "LOGSENT.TXT").length, 0, "a cut transfer is not recorded")
    assert.ok(!fs.existsSync(path.join(root, "LOG", "20261120.CSV")), "no half file under the final name")
    await d.waitForLine(/^FTP: \d+ files sent$/, { since: d.mark(), timeoutMs: 30000 })
    assert.deepEqual(fs.readFileSync(path.join(root, "LOG", "20261120.CSV")), fs.readFileSync(path.join(d.dir, "sd", "LOG", "20261120.CSV")))
})

test("resend from a date sends those files again at the next period", async t => {
    const root = tempDir(t, "ftproot")
    const { port } = await ftpServer(t, root)
    const d = await uploadingDongle(t, port)
    await d.waitForLine(/^FTP: \d+ files sent$/, { since: d.bootMark, timeoutMs: 40000 })
    const web = `http://127.0.0.1:${await d.waitForPort(6789)}`
    const setup = await fetch(`${web}/api/setup`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ password: "correct horse battery" }) })
    const cookie = setup.headers.get("set-cookie").split(";")[0]
    const r = await fetch(`${web}/api/action`, { method: "POST", headers: { "Content-Type": "application/json", Cookie: cookie }, body: JSON.stringify({ action: "ftp_resend", from: "2026-11-20" }) })
    assert.equal(r.status, 200)
    const before = sentList(d, "LOGSENT.TXT").filter(l => l[0] === "20261120.CSV").length
    const since = d.mark()
    await fetch(`${web}/api/action`, { method: "POST", headers: { "Content-Type": "application/json", Cookie: cookie }, body: JSON.stringify({ action: "ftp_send_now" }) })
    const size = fs.statSync(path.join(d.dir, "sd", "LOG", "20261120.CSV")).size
    await d.waitForLine(`FTP: sent LOG/20261120.CSV (${size} bytes)`, { since, timeoutMs: 30000 })
    // today's log, grown since it was sent, is resent whole too (not appended)
    await d.waitForLine(/^FTP: \d+ files sent$/, { since, timeoutMs: 20000 })
    await d.waitForLine(new RegExp(`^FTP: sent LOG/${todayLog(d)} \\(\\d+ bytes\\)$`), { since, timeoutMs: 1000 })
    assert.equal(sentList(d, "LOGSENT.TXT").filter(l => l[0] === "20261120.CSV").length, before + 1)
})

test("a log that grew goes up as SIZE + APPE of its new bytes only; the server's copy is the card's", async t => {
    const root = tempDir(t, "ftproot")
    const srv = await recordingServer(t, root)
    const d = await uploadingDongle(t, srv.port)
    await d.waitForLine(/^FTP: \d+ files sent$/, { since: d.bootMark, timeoutMs: 40000 })
    const today = todayLog(d)
    const first = sentList(d, "LOGSENT.TXT").filter(r => r[0] === today).map(r => Number(r[1]))
    assert.equal(first.length, 1, "today's log sent once in the first period")
    const whole = srv.writes.find(w => w.name === `LOG/${today}.part`)
    assert.equal(whole.bytes, first[0], "the first upload is the whole file")
    // the next period: today's log grew by a few rows
    const since = d.mark()
    await d.waitForLine(new RegExp(`^FTP: sent LOG/${today} \\(`), { since, timeoutMs: 20000 })
    await d.waitForLine(/^FTP: \d+ files sent$/, { since, timeoutMs: 20000 })
    const sizes = sentList(d, "LOGSENT.TXT").filter(r => r[0] === today).map(r => Number(r[1]))
    assert.equal(sizes.length, 2)
    const [was, now] = sizes
    assert.ok(now > was, "today's log grew")
    assert.ok(srv.commands.includes(`SIZE LOG/${today}`), "the server was asked its size")
    assert.ok(srv.commands.includes(`APPE LOG/${today}`), "the new bytes were appended")
    const appended = srv.writes.filter(w => w.name === `LOG/${today}`)
    assert.deepEqual(appended, [{ name: `LOG/${today}`, append: true, bytes: now - was }], "only the new bytes crossed the wire")
    console.log(`# bytes sent for ${today}: first period ${whole.bytes} (whole), next period ${appended[0].bytes} of ${now}`)
    await d.waitForLine(`FTP: sent LOG/${today} (${now} bytes, ${now - was} appended)`, { since, timeoutMs: 1000 })
    assert.deepEqual(fs.readFileSync(path.join(root, "LOG", today)), fs.readFileSync(path.join(d.dir, "sd", "LOG", today)).subarray(0, now))
    // the cell log of today also grew and was appended
    const cells = sentList(d, "CELLSENT.TXT")
    const cellLog = cells[cells.length - 1]
    assert.ok(srv.writes.some(w => w.name === `CELL/${cellLog[0]}` && w.append))
    assert.deepEqual(fs.readFileSync(path.join(root, "CELL", cellLog[0])), fs.readFileSync(path.join(d.dir, "sd", "CELL", cellLog[0])).subarray(0, Number(cellLog[1])))
    assert.ok(!fs.readdirSync(path.join(root, "LOG")).some(n => n.endsWith(".part")), "no half files left")
})

test("a server refusing SIZE, then one refusing APPE, gets the whole file as .part + rename", async t => {
    const root = tempDir(t, "ftproot")
    // session 0: all commands; session 1: no SIZE; session 2: SIZE but no APPE
    const srv = await recordingServer(t, root, { login: n => (n === 1 ? ["SIZE"] : n === 2 ? ["APPE"] : []) })
    const d = await uploadingDongle(t, srv.port)
    await d.waitForLine(/^FTP: \d+ files sent$/, { since: d.bootMark, timeoutMs: 40000 })
    const today = todayLog(d)
    for (const session of [1, 2]) {
        const since = d.mark()
        const writes = srv.writes.length
        await d.waitForLine(/^FTP: \d+ files sent$/, { since, timeoutMs: 20000 })
        const sent = sentList(d, "LOGSENT.TXT").filter(r => r[0] === today)
        const size = Number(sent[sent.length - 1][1])
        await d.waitForLine(`FTP: sent LOG/${today} (${size} bytes)`, { since, timeoutMs: 1000 })
        const mine = srv.writes.slice(writes).filter(w => w.name.startsWith(`LOG/${today}`))
        assert.deepEqual(mine, [{ name: `LOG/${today}.part`, append: false, bytes: size }], `session ${session}: the whole file`)
        assert.deepEqual(fs.readFileSync(path.join(root, "LOG", today)), fs.readFileSync(path.join(d.dir, "sd", "LOG", today)).subarray(0, size))
    }
    assert.ok(srv.commands.includes(`SIZE LOG/${today}`), "SIZE was asked where allowed")
    assert.ok(srv.commands.includes(`APPE LOG/${today}`), "APPE was tried (and refused) in session 2")
})

test("an append cut in the middle records nothing; the next period repairs the server's copy", async t => {
    const root = tempDir(t, "ftproot")
    let cut = false
    // the first append to today's main log: half of its first chunk reaches the file, then the
    // server drops the connection (no 226)
    const srv = await recordingServer(t, root, {
        onData(w, chunk, connection) {
            if (!w.append || cut || !w.name.startsWith("LOG/")) return false
            cut = true
            fs.appendFileSync(path.join(root, w.name), chunk.subarray(0, Math.max(1, chunk.length >> 1)))
            w.bytes += chunk.length >> 1
            connection.close().catch(() => {})
            return true
        },
    })
    const d = await uploadingDongle(t, srv.port)
    await d.waitForLine(/^FTP: \d+ files sent$/, { since: d.bootMark, timeoutMs: 40000 })
    const today = todayLog(d)
    const before = sentList(d, "LOGSENT.TXT")
    const since = d.mark()
    await d.waitForLine(/^FTP: (upload|the server closed|no answer).*; nothing recorded as sent, retried at the next period$/, { since, timeoutMs: 40000 })
    assert.ok(cut, "an append was cut")
    assert.deepEqual(sentList(d, "LOGSENT.TXT"), before, "a cut append records nothing")
    const remote = path.join(root, "LOG", today)
    const card = fs.readFileSync(path.join(d.dir, "sd", "LOG", today))
    const recorded = Number(before.filter(r => r[0] === today).pop()[1])
    const wrong = fs.readFileSync(remote)
    assert.ok(wrong.length > recorded && wrong.length < card.length, "the cut append left a wrong file under the final name (until the next period)")
    // the next period: SIZE differs from the recorded size -> the whole file as .part + rename
    const next = d.mark()
    const writes = srv.writes.length
    await d.waitForLine(/^FTP: \d+ files sent$/, { since: next, timeoutMs: 30000 })
    const sent = sentList(d, "LOGSENT.TXT").filter(r => r[0] === today)
    const size = Number(sent[sent.length - 1][1])
    assert.ok(size > recorded)
    const mine = srv.writes.slice(writes).filter(w => w.name.startsWith(`LOG/${today}`))
    assert.deepEqual(mine, [{ name: `LOG/${today}.part`, append: false, bytes: size }], "repaired by a whole upload")
    assert.deepEqual(fs.readFileSync(remote), fs.readFileSync(path.join(d.dir, "sd", "LOG", today)).subarray(0, size), "the server's copy is the card's, byte for byte")
    // and a server copy changed between periods (longer than recorded) is replaced the same way
    fs.appendFileSync(remote, "garbage\r\n")
    const again = d.mark()
    const writes2 = srv.writes.length
    await d.waitForLine(/^FTP: \d+ files sent$/, { since: again, timeoutMs: 30000 })
    const sent2 = sentList(d, "LOGSENT.TXT").filter(r => r[0] === today)
    const size2 = Number(sent2[sent2.length - 1][1])
    assert.deepEqual(srv.writes.slice(writes2).filter(w => w.name.startsWith(`LOG/${today}`)), [{ name: `LOG/${today}.part`, append: false, bytes: size2 }])
    assert.deepEqual(fs.readFileSync(remote), fs.readFileSync(path.join(d.dir, "sd", "LOG", today)).subarray(0, size2))
})
