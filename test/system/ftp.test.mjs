// FTP upload against a real FTP server on loopback (ftp-srv): files arrive with the card's exact
// bytes under their final names, LOGSENT.TXT and CELLSENT.TXT list what was sent; a wrong password,
// a stopped server and a cut transfer record nothing and succeed at the next period; resend works.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { FtpSrv } from "ftp-srv"
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
    assert.equal(sentList(d, "LOGSENT.TXT").filter(l => l[0] === "20261120.CSV").length, before + 1)
})
