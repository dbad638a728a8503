// The web server under what a browser does: six requests at once on kept-alive connections (a page
// reloading its settings while its status refreshes), and kept-alive connections reused just as the
// server closes them. Every request gets an answer (or, on a connection the server closed, a close
// the browser retries on); the dongle never restarts.
import { test } from "node:test"
import assert from "node:assert/strict"
import http from "node:http"
import net from "node:net"
import { startTestDongle, sleep } from "./helpers.mjs"

async function webDongle(t) {
    const d = await startTestDongle(t, { bms: { cells: 16, temperatureSensors: 2 } })
    await d.waitForLine(/^Web: port 6789/, { timeoutMs: 25000 })
    await d.waitForLine(/^BMS link: ok/)
    return { d, port: await d.waitForPort(6789) }
}

function request(port, agent, method, path, { body, cookie } = {}) {
    return new Promise(resolve => {
        const headers = { "Content-Type": "application/json", ...(cookie ? { Cookie: cookie } : {}) }
        const r = http.request({ host: "127.0.0.1", port, method, path, agent, headers }, res => {
            const chunks = []
            res.on("data", c => chunks.push(c))
            res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }))
            res.on("error", e => resolve({ status: `error ${e.message}` }))
        })
        r.on("error", e => resolve({ status: `error ${e.message}` }))
        r.setTimeout(15000, () => r.destroy(new Error("no answer within 15 s")))
        r.end(body === undefined ? undefined : JSON.stringify(body))
    })
}

test("six requests at once, round after round, on kept-alive connections: all answered, no restart", async t => {
    const { d, port } = await webDongle(t)
    // the dongle serves 4 connections at once (MAX_ACTIVE: each costs 2-4 KB of its 64 KB heap); the
    // page asks one thing at a time, so a browser, even with two tabs, stays within them
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
    t.after(() => agent.destroy())
    const setup = await request(port, agent, "POST", "/api/setup", { body: { password: "correct horse battery" } })
    assert.equal(setup.status, 200)
    const cookie = setup.headers["set-cookie"][0].split(";")[0]
    const boots = d.linesSince(0).filter(l => /^start: /.test(l)).length
    // what the page asks for after a save: its session, the settings form, the status, the journal
    const paths = ["/api/status", "/api/session", "/api/schema", "/api/settings", "/api/status", "/api/journal"]
    for (let round = 0; round < 6; round++) {
        const answers = await Promise.all(paths.map(p => request(port, agent, "GET", p, { cookie })))
        assert.deepEqual(answers.map(a => a.status), paths.map(() => 200), `round ${round}: ${answers.map(a => a.status).join(", ")}`)
        for (const a of answers) JSON.parse(a.body) // whole and well-formed
    }
    const trouble = d.linesSince(0).filter(l => /OutOfMemory|PANIC|^start: /.test(l))
    assert.equal(trouble.length, boots, `the dongle restarted:\n${trouble.join("\n")}`)
})

test("a kept-alive connection reused around the idle timeout: answered or closed, never left hanging", async t => {
    const { port } = await webDongle(t)
    const IDLE_MS = 5000 // src/web/server.ts IDLE_TIMEOUT_MS, announced as Keep-Alive: timeout=5
    const GET = "GET /api/session HTTP/1.1\r\nHost: dongle\r\n\r\n"
    const attempt = offsetMs =>
        new Promise(resolve => {
            const s = net.connect(port, "127.0.0.1")
            let got = ""
            let answers = 0
            let second = false
            s.on("data", b => {
                got += b
                answers = got.split("HTTP/1.1 ").length - 1
                if (answers === 1 && !second) {
                    second = true
                    setTimeout(() => s.writable && s.write(GET), IDLE_MS + offsetMs)
                }
                if (answers === 2) s.end()
            })
            s.on("error", () => {})
            s.on("close", () => resolve({ offsetMs, answers, hung: false }))
            s.on("connect", () => s.write(GET))
            setTimeout(() => {
                resolve({ offsetMs, answers, hung: true })
                s.destroy()
            }, IDLE_MS + offsetMs + 10000)
        })
    // four connections: what the dongle serves at once (MAX_ACTIVE)
    const results = await Promise.all([-400, -50, 150, 400].map(async (off, i) => (await sleep(i * 20), attempt(off))))
    for (const r of results) assert.equal(r.hung, false, `request sent ${r.offsetMs} ms around the idle timeout got neither an answer nor a close`)
    for (const r of results) assert.ok(r.answers >= 1, `the first request at offset ${r.offsetMs} was answered`)
    assert.ok(results.filter(r => r.offsetMs <= -400).every(r => r.answers === 2), "a connection reused well before the timeout is answered")
})

test("clients trickling their heads a byte at a time get 408 and free the connections for the page", async t => {
    const { port } = await webDongle(t)
    const started = Date.now()
    // four slow clients take every connection the server serves at once (MAX_ACTIVE): a byte every
    // 2 s, never a whole head; the idle timeout (5 s between reads) alone never ends them
    const slow = Array.from({ length: 4 }, () => new Promise(resolve => {
        const s = net.connect(port, "127.0.0.1")
        const head = "GET /api/status HTTP/1.1\r\nHost: dongle\r\nX-Slow: " + "a".repeat(100)
        let got = ""
        let i = 0
        const timer = setInterval(() => s.writable && i < head.length && s.write(head[i++]), 2000)
        s.on("data", b => (got += b))
        s.on("close", () => (clearInterval(timer), resolve({ status: got.split("\r\n")[0], afterMs: Date.now() - started })))
        s.on("error", () => {})
        setTimeout(() => s.destroy(), 40000)
    }))
    await sleep(1000)
    const busy = await fetch(`http://127.0.0.1:${port}/api/status`)
    assert.equal(busy.status, 503, "the four slow clients hold every connection")
    const ends = await Promise.all(slow)
    for (const e of ends) {
        assert.equal(e.status, "HTTP/1.1 408 Request Timeout")
        assert.ok(e.afterMs < 20000, `a slow client was answered after ${e.afterMs} ms (IDLE_TIMEOUT_MS + HEAD_TIMEOUT_MS = 15 s)`)
    }
    const r = await fetch(`http://127.0.0.1:${port}/api/status`)
    assert.equal(r.status, 200)
    assert.equal((await r.json()).bms.link, "ok")
})
