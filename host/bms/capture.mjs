// Replays a hand-written capture, in one of two formats.
// 0xA5 replies: on a request with data id X it sends, in file order, the bytes of every line for X,
// concatenated. "silent" (or no line for X) means no answer.
//
//   # comment
//   90: A5 01 90 08 02 12 00 00 75 30 02 00 F9
//   94: silent
//
// A register image of a newer unit (Modbus-style protocol): a read (03) whose registers are all in
// the image is answered from the scheme's reply address; a read touching another register gets no
// answer; a write (06) to a register in the image changes it and is echoed.
//
//   # comment
//   protocol d2                  (or: protocol 81 board 1)
//   @0000: 0CCF 0CD1 0CD1 ...    16-bit register values in hex, from register 0x0000 on
import { readFileSync } from "node:fs"
import { EventEmitter } from "node:events"
import { RequestParser } from "./daly-frame.mjs"
import { Wire, BYTE_MS } from "./wire.mjs"
import { ModbusRequestParser, readReply, schemeAddresses, withCrc, MAX_READ_REGISTERS } from "./modbus-frame.mjs"
import { readImage } from "./register-image.mjs"

const PROTOCOL_LINE = /^protocol\s+(d2|81)(?:\s+board\s+(\d+))?$/i
const IMAGE_LINE = /^@([0-9A-Fa-f]{4})\s*:\s*(.*)$/
const WORDS = /^[0-9A-Fa-f]{4}(\s+[0-9A-Fa-f]{4})*$/

/** Whether capture text is a register image (its first line that is not a comment says so). */
export function isRegisterImage(text) {
    const first = text.split(/\r?\n/).map(l => l.trim()).find(l => l && !l.startsWith("#"))
    return !!first && (/^protocol\b/i.test(first) || first.startsWith("@"))
}

/** Parses a register image: {protocol, board, image: Map}. Throws `file:line: problem` on bad input. */
export function parseRegisterImage(text, name = "capture") {
    let protocol = null
    let board = 1
    const image = new Map()
    text.split(/\r?\n/).forEach((raw, i) => {
        const line = raw.trim()
        if (!line || line.startsWith("#")) return
        const where = `${name}:${i + 1}`
        const p = PROTOCOL_LINE.exec(line)
        if (p) {
            if (protocol) throw new Error(`${where}: a second protocol line`)
            protocol = p[1].toLowerCase()
            board = p[2] === undefined ? 1 : Number(p[2])
            if (protocol === "d2" && p[2] !== undefined) throw new Error(`${where}: the D2 scheme has no board number`)
            if (!(board >= 1 && board <= 16)) throw new Error(`${where}: board number ${p[2]} is out of range 1..16`)
            return
        }
        if (/^protocol\b/i.test(line)) throw new Error(`${where}: malformed line "${line}" (expected "protocol d2" or "protocol 81 board N")`)
        const m = IMAGE_LINE.exec(line)
        if (!m) throw new Error(`${where}: malformed line "${line}" (expected "@XXXX: WORD WORD ..." with 4-digit hex register values)`)
        if (!protocol) throw new Error(`${where}: registers before the "protocol d2" or "protocol 81 board N" line`)
        const body = m[2].trim()
        if (!WORDS.test(body)) throw new Error(`${where}: malformed register values "${body}" (expected 4-digit hex words separated by spaces)`)
        const start = parseInt(m[1], 16)
        body.split(/\s+/).forEach((w, k) => {
            if (start + k > 0xffff) throw new Error(`${where}: register beyond 0xFFFF`)
            image.set(start + k, parseInt(w, 16))
        })
    })
    if (!protocol) throw new Error(`${name}: no "protocol d2" or "protocol 81 board N" line`)
    return { protocol, board, image }
}

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

function readCaptureText(file) {
    try {
        return readFileSync(file, "utf8")
    } catch (e) {
        throw new Error(`cannot read capture file ${file}: ${e.code === "ENOENT" ? "no such file" : e.message}`)
    }
}

export function loadCapture(file) {
    return parseCapture(readCaptureText(file), file)
}

export class CaptureBms extends EventEmitter {
    constructor(file, { replyLatencyMs = 12 } = {}) {
        super()
        this.file = file
        const text = readCaptureText(file)
        if (isRegisterImage(text)) {
            const { protocol, board, image } = parseRegisterImage(text, file)
            this.protocol = protocol
            this.board = board
            this.registers = image
            this.scheme = schemeAddresses(protocol, board)
            this.modbusParser = new ModbusRequestParser(this.scheme.request)
        } else this.replies = parseCapture(text, file)
        this.replyLatencyMs = replyLatencyMs
        this.parser = new RequestParser()
        this.wire = new Wire()
        this.wire.on("data", chunk => this.emit("data", chunk))
        this.stats = { requests: 0, replies: 0 }
        this.asleep = false
    }

    describe() {
        if (this.registers) return `capture replay ${this.file} (register image, protocol ${this.protocol}${this.protocol === "81" ? ` board ${this.board}` : ""}, ${this.registers.size} registers)`
        return `capture replay ${this.file} (${this.replies.size} data ids)`
    }

    /** The answer of the register image to a request, or null. */
    respondModbus({ fn, register, value }) {
        if (fn === 3) {
            const values = value >= 1 && value <= MAX_READ_REGISTERS ? readImage(this.registers, register, value) : null
            return values && readReply(this.scheme.reply, values)
        }
        if (!this.registers.has(register)) return null
        this.registers.set(register, value)
        return withCrc([this.scheme.reply, 6, register >> 8, register & 0xff, value >> 8, value & 0xff])
    }

    write(bytes) {
        const doneMs = Date.now() + bytes.length * BYTE_MS
        if (this.modbusParser) {
            for (const req of this.modbusParser.push(bytes)) {
                this.stats.requests++
                const reply = this.asleep ? null : this.respondModbus(req)
                if (!reply) continue
                this.stats.replies++
                this.wire.send(reply, doneMs + this.replyLatencyMs)
            }
            return
        }
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
