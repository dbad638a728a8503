// Host implementation of services/filestore.md: the SD card as a directory (--sd DIR, --no-sd).
import fs from "node:fs"
import path from "node:path"
import { jd, ReportQueue } from "./jacdac.mjs"

export const FILE_STORE_CLASS = 0x15c2e7a9
export const FileStatus = {
    Ok: 0, EndOfList: 1, NoCard: 2, Full: 3, NotFound: 4, BadName: 5, Exists: 6, IoError: 7,
    NotEmpty: 8, IsFolder: 9, OffsetMismatch: 10, BadArgument: 11,
}
const CMD = { append: 0x80, read: 0x81, list: 0x82, stat: 0x83, rename: 0x84, delete: 0x85, makeFolder: 0x86 }
const REP = { result: 0x90, readData: 0x91, entry: 0x92 }
const EVT_CARD_CHANGED = 0x80
const MAX_PATH = 64
const MAX_READ = 224
const ANY_SIZE = 0xffffffff
const SHORT_NAME = /^[A-Z0-9_\-~!#$%&()@^]{1,8}(\.[A-Z0-9_\-~!#$%&()@^]{1,3})?$/

/** "/log/20261121.csv" → ["LOG", "20261121.CSV"], or null when the path breaks the 8.3 rules. */
export function splitPath(p) {
    if (typeof p !== "string" || p.length > MAX_PATH || !p.startsWith("/")) return null
    if (p === "/") return []
    const parts = p.slice(1).replace(/\/$/, "").split("/").map(s => s.toUpperCase())
    return parts.every(s => SHORT_NAME.test(s)) ? parts : null
}

function statusOf(e) {
    switch (e?.code) {
        case "ENOENT": case "ENOTDIR": return FileStatus.NotFound
        case "ENOSPC": return FileStatus.Full
        case "EEXIST": return FileStatus.Exists
        case "ENOTEMPTY": return FileStatus.NotEmpty
        case "EISDIR": return FileStatus.IsFolder
        default: return FileStatus.IoError
    }
}

export class FileStoreServer extends jd.JDServiceServer {
    /**
     * @param {object} o
     * @param {string} o.root the card's directory
     * @param {boolean} [o.present] a card is inserted
     * @param {number} [o.capacityBytes] pretend the card has this size (tests of a full card)
     */
    constructor({ root, present = true, capacityBytes = 0 }) {
        super(FILE_STORE_CLASS)
        this.root = path.resolve(root)
        this.capacityBytes = capacityBytes
        this.present = false
        this.reports = new ReportQueue(this)
        this.cardPresent = this.addRegister(0x180, [false])
        this.freeSpace = this.addRegister(0x181, [0])
        this.totalSpace = this.addRegister(0x182, [0])
        this.addCommand(CMD.append, p => this.onAppend(p.data))
        this.addCommand(CMD.read, p => this.onRead(p.data))
        this.addCommand(CMD.list, p => this.onList(p.data))
        this.addCommand(CMD.stat, p => this.onStat(p.data))
        this.addCommand(CMD.rename, p => this.onRename(p.data))
        this.addCommand(CMD.delete, p => this.onDelete(p.data))
        this.addCommand(CMD.makeFolder, p => this.onMakeFolder(p.data))
        if (present) this.insert()
    }

    /** Put the card in (creates the directory if needed). */
    insert() {
        fs.mkdirSync(this.root, { recursive: true })
        this.present = true
        this.cardPresent.setValues([true])
        this.refreshSpace()
        this.sendEvent(EVT_CARD_CHANGED, jd.jdpack("u8", [1])).catch(() => {})
    }

    /** Pull the card out. */
    eject() {
        this.present = false
        this.cardPresent.setValues([false])
        this.refreshSpace()
        this.sendEvent(EVT_CARD_CHANGED, jd.jdpack("u8", [0])).catch(() => {})
    }

    usedBytes(dir = this.root) {
        let total = 0
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name)
            total += e.isDirectory() ? this.usedBytes(p) : fs.statSync(p).size
        }
        return total
    }

    space() {
        if (!this.present) return { free: 0, total: 0 }
        if (this.capacityBytes) return { free: Math.max(0, this.capacityBytes - this.usedBytes()), total: this.capacityBytes }
        const s = fs.statfsSync(this.root)
        return { free: s.bavail * s.bsize, total: s.blocks * s.bsize }
    }

    refreshSpace() {
        const { free, total } = this.space()
        this.freeSpace.setValues([free])
        this.totalSpace.setValues([total])
    }

    /** Host path for a card path, or a status when it cannot be used. */
    resolve(p) {
        if (!this.present) return { status: FileStatus.NoCard }
        const parts = splitPath(p)
        if (!parts) return { status: FileStatus.BadName }
        return { status: FileStatus.Ok, host: path.join(this.root, ...parts), name: parts[parts.length - 1] ?? "" }
    }

    result(req, status, value = 0) {
        this.reports.send(REP.result, "u32 u16 u16", [value, req, status])
    }

    entry(req, status, { size = 0, modified = 0, index = 0, isFolder = false, name = "" } = {}) {
        this.reports.send(REP.entry, "u32 u32 u16 u16 u16 u8 s", [size, modified, index, req, status, isFolder ? 1 : 0, name])
    }

    onAppend(data) {
        const [expected, req] = jd.jdunpack(data.subarray(0, 6), "u32 u16")
        const rest = Buffer.from(data.subarray(6))
        const nul = rest.indexOf(0)
        if (nul < 0) return this.result(req, FileStatus.BadArgument)
        const r = this.resolve(rest.subarray(0, nul).toString("utf8"))
        if (r.status) return this.result(req, r.status)
        const bytes = rest.subarray(nul + 1)
        let size = 0
        try {
            const st = fs.statSync(r.host, { throwIfNoEntry: false })
            if (st?.isDirectory()) return this.result(req, FileStatus.IsFolder)
            size = st ? st.size : 0
            if (expected !== ANY_SIZE && expected !== size) return this.result(req, FileStatus.OffsetMismatch, size)
            if (this.space().free < bytes.length) return this.result(req, FileStatus.Full, size)
            const fd = fs.openSync(r.host, "a")
            try {
                fs.writeSync(fd, bytes)
                fs.fsyncSync(fd)
            } finally {
                fs.closeSync(fd)
            }
            this.refreshSpace()
            this.result(req, FileStatus.Ok, size + bytes.length)
        } catch (e) {
            this.result(req, statusOf(e), size)
        }
    }

    onRead(data) {
        const [offset, req, length, p] = jd.jdunpack(data, "u32 u16 u8 s")
        const reply = (status, bytes = new Uint8Array(0)) =>
            this.reports.send(REP.readData, "u32 u16 u16 b", [offset, req, status, bytes])
        const r = this.resolve(p)
        if (r.status) return reply(r.status)
        try {
            if (fs.statSync(r.host).isDirectory()) return reply(FileStatus.IsFolder)
            const fd = fs.openSync(r.host, "r")
            try {
                const buf = Buffer.alloc(Math.min(length, MAX_READ))
                const n = fs.readSync(fd, buf, 0, buf.length, offset)
                reply(FileStatus.Ok, buf.subarray(0, n))
            } finally {
                fs.closeSync(fd)
            }
        } catch (e) {
            reply(statusOf(e))
        }
    }

    describe(host, name, index, req) {
        const st = fs.statSync(host)
        this.entry(req, FileStatus.Ok, {
            size: st.isDirectory() ? 0 : st.size, modified: Math.floor(st.mtimeMs / 1000), index, isFolder: st.isDirectory(), name,
        })
    }

    onList(data) {
        const [index, req, p] = jd.jdunpack(data, "u16 u16 s")
        const r = this.resolve(p)
        if (r.status) return this.entry(req, r.status, { index })
        try {
            const names = fs.readdirSync(r.host).filter(n => SHORT_NAME.test(n)).sort()
            if (index >= names.length) return this.entry(req, FileStatus.EndOfList, { index })
            this.describe(path.join(r.host, names[index]), names[index], index, req)
        } catch (e) {
            this.entry(req, statusOf(e), { index })
        }
    }

    onStat(data) {
        const [req, p] = jd.jdunpack(data, "u16 s")
        const r = this.resolve(p)
        if (r.status) return this.entry(req, r.status)
        try {
            this.describe(r.host, r.name, 0, req)
        } catch (e) {
            this.entry(req, statusOf(e))
        }
    }

    onRename(data) {
        const req = jd.jdunpack(data.subarray(0, 2), "u16")[0]
        const [from, to] = Buffer.from(data.subarray(2)).toString("utf8").split("\0")
        const a = this.resolve(from)
        const b = this.resolve(to ?? "")
        if (a.status || b.status) return this.result(req, a.status || b.status)
        try {
            if (!fs.existsSync(a.host)) return this.result(req, FileStatus.NotFound)
            if (fs.existsSync(b.host)) return this.result(req, FileStatus.Exists)
            fs.renameSync(a.host, b.host)
            this.result(req, FileStatus.Ok)
        } catch (e) {
            this.result(req, statusOf(e))
        }
    }

    onDelete(data) {
        const [req, p] = jd.jdunpack(data, "u16 s")
        const r = this.resolve(p)
        if (r.status) return this.result(req, r.status)
        try {
            const st = fs.statSync(r.host)
            if (st.isDirectory()) fs.rmdirSync(r.host)
            else fs.unlinkSync(r.host)
            this.refreshSpace()
            this.result(req, FileStatus.Ok)
        } catch (e) {
            this.result(req, statusOf(e))
        }
    }

    onMakeFolder(data) {
        const [req, p] = jd.jdunpack(data, "u16 s")
        const r = this.resolve(p)
        if (r.status) return this.result(req, r.status)
        try {
            const st = fs.statSync(r.host, { throwIfNoEntry: false })
            if (st && !st.isDirectory()) return this.result(req, FileStatus.Exists)
            if (!st) fs.mkdirSync(r.host)
            this.result(req, FileStatus.Ok)
        } catch (e) {
            this.result(req, statusOf(e))
        }
    }
}
