// Replays a hand-written capture: on a request with data id X it sends, in file order, the bytes of
// every line for X, concatenated. "silent" (or no line for X) means no answer.
//
//   # comment
//   90: A5 01 90 08 02 12 00 00 75 30 02 00 F9
//   94: silent
import { readFileSync } from "node:fs"
import { EventEmitter } from "node:events"
import { RequestParser } from "./daly-frame.mjs"
import { Wire, BYTE_MS } from "./wire.mjs"

const LINE = /^([0-9A-Fa-f]{2})\s*:\s*(.*)$/
const HEX_BYTES = /^([0-9A-Fa-f]{2})(\s+[0-9A-Fa-f]{2})*$/

/** Parses capture text into Map(dataId → Buffer|null). Throws `file:line: problem` on bad input. */
export function parseCapture(text, name = "capture") {
    const replies = new Map()
    text.split(/\r?\n/).forEach((raw, i) => {
        const line = raw.trim()
        if (!line || line.startsWith("#")) return
        const where = `${name}:${i + 1}`
        const m = LINE.exec(line)
        if (!m) throw new Error(`${where}: malformed line "${line}" (expected "ID: HEX BYTES" or "ID: silent")`)
        const id = parseInt(m[1], 16)
        const body = m[2].trim()
        if (body.toLowerCase() === "silent") {
            if (!replies.has(id)) replies.set(id, null)
            return
        }
        if (!HEX_BYTES.test(body)) throw new Error(`${where}: malformed bytes "${body}" (expected two-digit hex bytes separated by spaces)`)
        const bytes = Buffer.from(body.split(/\s+/).map(h => parseInt(h, 16)))
        const prev = replies.get(id)
        replies.set(id, prev ? Buffer.concat([prev, bytes]) : bytes)
    })
    return replies
}

export function loadCapture(file) {
    let text
    try {
        text = readFileSync(file, "utf8")
    } catch (e) {
        throw new Error(`cannot read capture file ${file}: ${e.code === "ENOENT" ? "no such file" : e.message}`)
    }
    return parseCapture(text, file)
}

export class CaptureBms extends EventEmitter {
    constructor(file, { replyLatencyMs = 12 } = {}) {
        super()
        this.file = file
        this.replies = loadCapture(file)
        this.replyLatencyMs = replyLatencyMs
        this.parser = new RequestParser()
        this.wire = new Wire()
        this.wire.on("data", chunk => this.emit("data", chunk))
        this.stats = { requests: 0, replies: 0 }
        this.asleep = false
    }

    describe() {
        return `capture replay ${this.file} (${this.replies.size} data ids)`
    }

    write(bytes) {
        const doneMs = Date.now() + bytes.length * BYTE_MS
        for (const req of this.parser.push(bytes)) {
            this.stats.requests++
            const reply = this.replies.get(req.dataId)
            if (!reply || this.asleep) continue
            this.stats.replies++
            this.wire.send(reply, doneMs + this.replyLatencyMs)
        }
    }

    sleep() {
        this.asleep = true
    }

    wake() {
        this.asleep = false
    }

    close() {
        this.wire.close()
    }
}
