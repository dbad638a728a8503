// FTP resume against a real FTP server on loopback (ftp-srv, recording every command and byte it
// receives): a file that grew goes up as SIZE + APPE of its new bytes only; a server refusing SIZE or
// APPE gets the whole file; a cut append records nothing and is repaired at the next period.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { tempDir } from "./helpers.mjs"
import { recordingServer, sentList, todayLog, uploadingDongle } from "./ftp-servers.mjs"

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
