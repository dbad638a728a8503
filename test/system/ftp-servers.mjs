// What the FTP system tests share: an ftp-srv server on loopback, one that records every command and
// byte it receives, a dongle uploading to it, and the card's files.
import fs from "node:fs"
import path from "node:path"
import { FtpSrv, FileSystem } from "ftp-srv"
import { startTestDongle, tempDir, sleep } from "./helpers.mjs"

export const USER = "logger"
export const PASSWORD = "ftp-secret-1"

export async function ftpServer(t, root, port = 0, { rejectLogins = 0 } = {}) {
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
export async function recordingServer(t, root, { login = () => [], onData = () => false } = {}) {
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
export function todayLog(d) {
    return fs.readdirSync(path.join(d.dir, "sd", "LOG")).find(n => n.endsWith(".CSV") && n !== "20261120.CSV")
}

/** A dongle logging every second (cells too), uploading every 10 s to 127.0.0.1:port. */
export async function uploadingDongle(t, port, extra = {}) {
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

export function sentList(d, name) {
    const f = path.join(d.dir, "sd", name)
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\r\n").filter(Boolean).map(l => l.split(",")) : []
}
