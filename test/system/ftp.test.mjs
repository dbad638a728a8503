// FTP upload against a real FTP server on loopback (ftp-srv): files arrive with the card's exact
// bytes under their final names, LOGSENT.TXT and CELLSENT.TXT list what was sent; a wrong password,
// a stopped server and a cut transfer record nothing and succeed at the next period; resend works.
// (Resuming a grown file: ftp-resume.test.mjs.)
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { tempDir } from "./helpers.mjs"
import { ftpServer, sentList, todayLog, uploadingDongle } from "./ftp-servers.mjs"

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
