// Client of services/filestore.md: files on the SD card. Every call resolves with the answer to its
// own request number or throws FileStoreError naming the operation, the path and the status.
import * as ds from "@devicescript/core"
import { onEveryReport } from "./tasks"
import { Signal } from "./signal"

const CMD_APPEND = 0x80
const CMD_READ = 0x81
const CMD_LIST = 0x82
const CMD_STAT = 0x83
const CMD_RENAME = 0x84
const CMD_DELETE = 0x85
const CMD_MAKE_FOLDER = 0x86
const REP_RESULT = 0x90
const REP_READ_DATA = 0x91
const REP_ENTRY = 0x92
const ANY_SIZE = 0xffffffff
const MAX_PAYLOAD = 236
const MAX_READ = 224
const REQUEST_TIMEOUT_MS = 5000
const BIND_TIMEOUT_MS = 15000

export const FILE_STATUS_NAMES = [
    "ok", "end_of_list", "no_card", "full", "not_found", "bad_name", "exists", "io_error",
    "not_empty", "is_folder", "offset_mismatch", "bad_argument",
]
export const STATUS_OK = 0
export const STATUS_END_OF_LIST = 1
export const STATUS_NO_CARD = 2
export const STATUS_NOT_FOUND = 4
export const STATUS_OFFSET_MISMATCH = 10
const STATUS_TIMEOUT = 255

export class FileStoreError extends Error {
    status: number
    constructor(status: number, what: string) {
        super(`${what}: ${status === STATUS_TIMEOUT ? "no answer from the file store" : FILE_STATUS_NAMES[status] || "status " + status}`)
        this.status = status
    }
}

export interface FileEntry {
    name: string
    size: number
    /** seconds since 1970-01-01 UTC */
    modified: number
    isFolder: boolean
}

let role: ds.FileStore = null
let nextReq = 1
const answers: Record<string, Buffer> = {}
const answered = new Signal()

async function store() {
    if (!role) {
        role = new ds.FileStore()
        onEveryReport(role, (pkt: ds.Packet) => {
            const code = pkt.serviceCommand
            if (!pkt.isReport || (code !== REP_RESULT && code !== REP_READ_DATA && code !== REP_ENTRY)) return
            const p = pkt.payload
            const req = code === REP_ENTRY ? p.getAt(10, "u16") : p.getAt(4, "u16")
            answers[req + ""] = p
            answered.emit(req)
        })
    }
    const deadline = ds.millis() + BIND_TIMEOUT_MS
    while (!role.isBound) {
        if (ds.millis() > deadline) throw new FileStoreError(STATUS_TIMEOUT, "file store")
        await ds.sleep(20)
    }
    return role
}

function newRequest() {
    const req = nextReq
    nextReq = nextReq >= 0xffff ? 1 : nextReq + 1
    return req
}

/** Sends a command and waits for the answer carrying `req`. */
async function request(code: number, req: number, payload: Buffer, what: string) {
    const r = await store()
    delete answers[req + ""]
    await r.sendCommand(code, payload)
    const deadline = ds.millis() + REQUEST_TIMEOUT_MS
    for (;;) {
        const a = answers[req + ""]
        if (a) {
            delete answers[req + ""]
            return a
        }
        const left = deadline - ds.millis()
        if (left <= 0) throw new FileStoreError(STATUS_TIMEOUT, what)
        await answered.wait(left)
    }
}

function pathPayload(prefix: Buffer, path: string) {
    return prefix.concat(Buffer.from(path))
}

function u16Req(req: number) {
    const b = Buffer.alloc(2)
    b.setAt(0, "u16", req)
    return b
}

async function simple(code: number, path: string, what: string) {
    const req = newRequest()
    const a = await request(code, req, pathPayload(u16Req(req), path), `${what} ${path}`)
    const status = a.getAt(6, "u16")
    if (status !== STATUS_OK) throw new FileStoreError(status, `${what} ${path}`)
}

function decodeEntry(a: Buffer): FileEntry {
    return { size: a.getAt(0, "u32"), modified: a.getAt(4, "u32"), isFolder: a[14] !== 0, name: a.slice(15).toString() }
}

/** Whether a card is inserted and mounted. */
export async function cardPresent() {
    const r = await store()
    return !!(await r.cardPresent.read())
}

/** Free bytes on the card. */
export async function freeSpace() {
    const r = await store()
    return await r.freeSpace.read()
}

/**
 * Appends to a file (created if missing) and returns its new size. With `expectedSize` the first
 * packet is only written if the file has that size now: a retried append never doubles rows.
 */
export async function append(path: string, data: Buffer | string, expectedSize = ANY_SIZE) {
    const bytes = typeof data === "string" ? Buffer.from(data) : data
    const room = MAX_PAYLOAD - 7 - path.length
    if (room < 16) throw new FileStoreError(5, `append ${path}`)
    let size = expectedSize
    let off = 0
    for (;;) {
        const n = Math.min(room, bytes.length - off)
        const req = newRequest()
        const head = Buffer.alloc(6)
        head.setAt(0, "u32", size)
        head.setAt(4, "u16", req)
        const payload = Buffer.concat(head, Buffer.from(path), Buffer.from([0]), bytes.slice(off, off + n))
        const a = await request(CMD_APPEND, req, payload, `append ${path}`)
        const status = a.getAt(6, "u16")
        if (status !== STATUS_OK) throw new FileStoreError(status, `append ${path}`)
        size = a.getAt(0, "u32")
        off += n
        if (off >= bytes.length) return size
    }
}

/** Up to `length` bytes (any size) at `offset`; fewer at the end of the file. */
export async function read(path: string, offset = 0, length = MAX_READ) {
    const parts: Buffer[] = []
    let got = 0
    while (got < length) {
        const req = newRequest()
        const head = Buffer.alloc(7)
        head.setAt(0, "u32", offset + got)
        head.setAt(4, "u16", req)
        head[6] = Math.min(MAX_READ, length - got)
        const a = await request(CMD_READ, req, pathPayload(head, path), `read ${path}`)
        const status = a.getAt(6, "u16")
        if (status !== STATUS_OK) throw new FileStoreError(status, `read ${path}`)
        const data = a.slice(8)
        if (!data.length) break
        parts.push(data)
        got += data.length
        if (data.length < head[6]) break
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(...parts)
}

/** Size, time and kind of a file or folder; throws FileStoreError (not_found, ...) otherwise. */
export async function stat(path: string): Promise<FileEntry> {
    const req = newRequest()
    const a = await request(CMD_STAT, req, pathPayload(u16Req(req), path), `stat ${path}`)
    const status = a.getAt(12, "u16")
    if (status !== STATUS_OK) throw new FileStoreError(status, `stat ${path}`)
    return decodeEntry(a)
}

/** Entry number `index` (from 0, in name order) of a folder; null past the last one. */
export async function entryAt(path: string, index: number): Promise<FileEntry> {
    const req = newRequest()
    const head = Buffer.alloc(4)
    head.setAt(0, "u16", index)
    head.setAt(2, "u16", req)
    const a = await request(CMD_LIST, req, pathPayload(head, path), `list ${path}`)
    const status = a.getAt(12, "u16")
    if (status === STATUS_END_OF_LIST) return null
    if (status !== STATUS_OK) throw new FileStoreError(status, `list ${path}`)
    return decodeEntry(a)
}

/** Every entry of a folder, in name order (entryAt one by one keeps the heap small for long folders). */
export async function list(path: string): Promise<FileEntry[]> {
    const entries: FileEntry[] = []
    for (let index = 0; ; index++) {
        const e = await entryAt(path, index)
        if (!e) return entries
        entries.push(e)
    }
}

export async function rename(from: string, to: string) {
    const req = newRequest()
    const payload = Buffer.concat(u16Req(req), Buffer.from(from), Buffer.from([0]), Buffer.from(to))
    const a = await request(CMD_RENAME, req, payload, `rename ${from} to ${to}`)
    const status = a.getAt(6, "u16")
    if (status !== STATUS_OK) throw new FileStoreError(status, `rename ${from} to ${to}`)
}

export async function remove(path: string) {
    await simple(CMD_DELETE, path, "delete")
}

export async function makeFolder(path: string) {
    await simple(CMD_MAKE_FOLDER, path, "make folder")
}
