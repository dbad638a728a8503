// The virtual Daly BMS: answers the classic A5 protocol from a BatteryModel with 9600-baud timing,
// sleeps, and injects the faults real units show. Interface of every BMS link: write(bytes),
// "data" events with the bytes the BMS sends back, close().
import { EventEmitter } from "node:events"
import { BatteryModel } from "./battery-model.mjs"
import { RequestParser, replyFrame, FRAME_LENGTH } from "./daly-frame.mjs"
import { Wire, BYTE_MS } from "./wire.mjs"
import { ModbusRequestParser, readReply, schemeAddresses, withCrc, MAX_READ_REGISTERS } from "./modbus-frame.mjs"
import { applyWrite, d2Image, p81Image, readImage } from "./register-image.mjs"

export const FAULT_KINDS = ["bad_checksum", "truncated", "stale_frame", "garbage", "extra_frames", "leftover"]
/**
 * The fault kinds of the newer protocol: "stale_frame" is an older reply to another request; a
 * replay of the same read ("leftover") has no frame number to tell it by and is an 0xA5 fault only.
 */
export const MODBUS_FAULT_KINDS = ["bad_checksum", "truncated", "stale_frame", "garbage", "extra_frames"]
const DEFAULT_REPLY_LATENCY_MS = 12 // a real unit starts answering 10-20 ms after the request
const u16 = (buf, off, v) => buf.writeUInt16BE(Math.max(0, Math.min(0xffff, Math.round(v))), off)

/** Deterministic PRNG so a fault run can be replayed with the same seed. */
function mulberry32(seed) {
    return () => {
        seed = (seed + 0x6d2b79f5) | 0
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
}

export class VirtualBms extends EventEmitter {
    /**
     * @param {object} o
     * @param {BatteryModel|object} [o.model] a model or BatteryModel options (default: o itself)
     * @param {number[]} [o.addresses] request addresses answered (default 0x40 and 0x80)
     * @param {number} [o.replyLatencyMs]
     * @param {number} [o.idleSleepS] fall asleep after this long without current (0: never)
     * @param {boolean} [o.invertCurrentSign] report current with the opposite sign (some firmwares)
     * @param {number} [o.seed] fault PRNG seed
     * @param {string} [o.protocol] "a5" (default), "d2" or "81": the newer Modbus-style protocol
     * @param {number} [o.board] board number of the "81" scheme (1..16, default 1)
     * @param {number} [o.maxRegisters] largest read (function 03) a newer unit answers (default 125)
     * @param {number[][]} [o.missing] register ranges [from, to] a newer unit does not answer
     */
    constructor(o = {}) {
        super()
        this.model = o.model instanceof BatteryModel ? o.model : new BatteryModel(o.model ?? o)
        this.addresses = o.addresses ?? [0x40, 0x80]
        this.replyLatencyMs = o.replyLatencyMs ?? DEFAULT_REPLY_LATENCY_MS
        this.idleSleepS = o.idleSleepS ?? 0
        this.invertCurrentSign = !!o.invertCurrentSign
        this.asleep = false
        this.random = mulberry32(o.seed ?? 1)
        this.faultRate = 0
        this.faultKinds = FAULT_KINDS
        this.onceFaults = []
        this.lastReply = null
        /** the last healthy reply per data id (leftover faults) */
        this.lastReplies = new Map()
        /** data id → a frame of an earlier reply sent before every reply of that id (leftover()) */
        this.leftovers = new Map()
        this.stats = { requests: 0, replies: 0, faults: 0, ignored: 0 }
        this.requestLog = []
        this.protocol = o.protocol ?? "a5"
        this.board = o.board ?? 1
        if (!(Number.isInteger(this.board) && this.board >= 1 && this.board <= 16)) throw new Error(`board number ${this.board} is out of range 1..16`)
        this.maxRegisters = o.maxRegisters ?? MAX_READ_REGISTERS
        this.missing = o.missing ?? []
        if (this.protocol !== "a5") {
            this.scheme = schemeAddresses(this.protocol, this.board)
            this.modbusParser = new ModbusRequestParser(this.scheme.request)
            this.image() // a pack the register map cannot hold fails here
        }
        /** the last reply per request (leftover faults of the newer protocol) */
        this.lastModbus = new Map()
        this.parser = new RequestParser()
        this.wire = new Wire()
        this.wire.on("data", chunk => this.emit("data", chunk))
    }

    describe() {
        const proto = this.protocol === "a5" ? "0xA5 protocol" : this.protocol === "d2" ? "Modbus-style protocol, D2 scheme" : `Modbus-style protocol, 0x81 scheme, board ${this.board}`
        return `virtual Daly BMS (${proto}), ${this.model.cellCount} cells, ${this.model.sensorCount} temperature sensors`
    }

    /** The registers of a newer unit now (Map register → value). */
    image() {
        const img = this.protocol === "d2" ? d2Image(this.model) : p81Image(this.model, this.board)
        for (const [from, to] of this.missing) for (let r = from; r <= to; r++) img.delete(r)
        return img
    }

    /** The reply of a newer unit to a request, or null (no answer). */
    respondModbus({ fn, register, value }) {
        if (fn === 3) {
            if (value < 1 || value > this.maxRegisters) return null
            const values = readImage(this.image(), register, value)
            return values && readReply(this.scheme.reply, values)
        }
        if (this.missing.some(([from, to]) => register >= from && register <= to)) return null
        if (!applyWrite(this.model, this.protocol, register, value, e => this.emit("command", e))) return null
        return withCrc([this.scheme.reply, 6, register >> 8, register & 0xff, value >> 8, value & 0xff])
    }

    handleModbus(req, atMs) {
        this.stats.requests++
        this.requestLog.push({ ...req, address: this.scheme.request, at: Date.now() })
        if (this.requestLog.length > 200) this.requestLog.shift()
        this.model.step()
        if (this.idleSleepS && this.model.idleSeconds() >= this.idleSleepS) this.sleep()
        const reply = this.asleep ? null : this.respondModbus(req)
        if (!reply) {
            this.stats.ignored++
            return
        }
        const key = `${req.fn}:${req.register}:${req.value}`
        // a stale reply is the last one to ANOTHER request (see MODBUS_FAULT_KINDS)
        if (this.lastKey && this.lastKey !== key) this.otherReply = this.lastModbus.get(this.lastKey)
        this.lastReply = this.otherReply ?? null
        const bytes = this.applyFaults(key, [reply], this.lastModbus.get(key))
        this.lastKey = key
        this.lastModbus.set(key, [reply])
        this.stats.replies++
        this.wire.send(bytes, atMs + this.replyLatencyMs)
    }

    /** Bytes from the dongle's UART TX. */
    write(bytes) {
        const now = Date.now()
        // the request is complete on the BMS side once its last byte has crossed the wire
        const requestDoneMs = now + bytes.length * BYTE_MS
        if (this.modbusParser) {
            for (const req of this.modbusParser.push(bytes)) this.handleModbus(req, requestDoneMs)
            return
        }
        for (const req of this.parser.push(bytes)) this.handleRequest(req, requestDoneMs)
    }

    handleRequest(req, atMs) {
        this.stats.requests++
        this.requestLog.push({ ...req, at: Date.now() })
        if (this.requestLog.length > 200) this.requestLog.shift()
        this.model.step()
        if (this.idleSleepS && this.model.idleSeconds() >= this.idleSleepS) this.sleep()
        if (this.asleep || !this.addresses.includes(req.address)) {
            this.stats.ignored++
            return
        }
        const frames = this.respond(req)
        if (!frames.length) {
            this.stats.ignored++
            return
        }
        let bytes = this.applyFaults(req.dataId, frames)
        const leftover = this.leftovers.get(req.dataId)
        if (leftover) bytes = Buffer.concat([leftover, bytes])
        this.lastReply = frames
        this.lastReplies.set(req.dataId, frames)
        this.stats.replies++
        this.wire.send(bytes, atMs + this.replyLatencyMs)
    }

    /** The frames a healthy BMS sends for a request. */
    respond({ dataId, data }) {
        const m = this.model
        const d = Buffer.alloc(8)
        switch (dataId) {
            case 0x90: {
                u16(d, 0, m.packVoltageDv())
                u16(d, 2, 0)
                const amps = m.effectiveCurrent() * (this.invertCurrentSign ? -1 : 1)
                u16(d, 4, 30000 + amps * 10)
                u16(d, 6, m.soc * 10)
                return [replyFrame(0x90, d)]
            }
            case 0x91: {
                const cells = m.cellVoltagesMv()
                const max = Math.max(...cells)
                const min = Math.min(...cells)
                u16(d, 0, max)
                d[2] = cells.indexOf(max) + 1
                u16(d, 3, min)
                d[5] = cells.indexOf(min) + 1
                return [replyFrame(0x91, d)]
            }
            case 0x92: {
                const temps = m.temperaturesC()
                const max = Math.max(...temps)
                const min = Math.min(...temps)
                d[0] = max + 40
                d[1] = temps.indexOf(max) + 1
                d[2] = min + 40
                d[3] = temps.indexOf(min) + 1
                return [replyFrame(0x92, d)]
            }
            case 0x93:
                d[0] = m.state
                d[1] = m.chargeMos ? 1 : 0
                d[2] = m.dischargeMos ? 1 : 0
                d[3] = m.life
                d.writeUInt32BE(Math.round(m.remainingAh * 1000), 4)
                return [replyFrame(0x93, d)]
            case 0x94:
                d[0] = m.cellCount
                d[1] = m.sensorCount
                d[2] = m.chargerPresent ? 1 : 0
                d[3] = m.loadPresent ? 1 : 0
                d[4] = m.digitalIO
                u16(d, 5, m.cycles)
                return [replyFrame(0x94, d)]
            case 0x95:
                return this.cellFrames(Math.ceil(m.cellCount / 3))
            case 0x96: {
                const temps = m.temperaturesC()
                const frames = []
                for (let f = 0; f * 7 < temps.length; f++) {
                    const t = Buffer.alloc(8, 0xff) // unused sensor slots read FF on real units
                    t[0] = f + 1
                    temps.slice(f * 7, f * 7 + 7).forEach((c, i) => (t[1 + i] = c + 40))
                    frames.push(replyFrame(0x96, t))
                }
                return frames
            }
            case 0x97: {
                const bits = m.balancingBits()
                for (let i = 0; i < 6; i++) d[i] = Number((bits >> BigInt(8 * i)) & 0xffn)
                return [replyFrame(0x97, d)]
            }
            case 0x98:
                m.alarmBytes().copy(d, 0, 0, 7)
                d[7] = m.faultCode
                return [replyFrame(0x98, d)]
            case 0x50:
                d.writeUInt32BE(Math.round(m.capacityAh * 1000), 0)
                u16(d, 6, m.nominalCellMv)
                return [replyFrame(0x50, d)]
            case 0x53:
                d[2] = m.productionDate.year % 100
                d[3] = m.productionDate.month
                d[4] = m.productionDate.day
                return [replyFrame(0x53, d)]
            case 0x57: {
                const code = Buffer.alloc(35, 0x20)
                code.write(m.batteryCode, "ascii")
                return [1, 2, 3, 4, 5].map(f => {
                    const b = Buffer.alloc(8)
                    b[0] = f
                    code.copy(b, 1, (f - 1) * 7, f * 7)
                    return replyFrame(0x57, b)
                })
            }
            case 0x59: {
                const t = m.thresholds
                u16(d, 0, t.cellHighL1Mv)
                u16(d, 2, t.cellHighL2Mv)
                u16(d, 4, t.cellLowL1Mv)
                u16(d, 6, t.cellLowL2Mv)
                return [replyFrame(0x59, d)]
            }
            case 0x5a: {
                const t = m.thresholds
                const n = m.cellCount
                u16(d, 0, t.packHighL1dV || (t.cellHighL1Mv * n) / 100)
                u16(d, 2, t.packHighL2dV || (t.cellHighL2Mv * n) / 100)
                u16(d, 4, t.packLowL1dV || (t.cellLowL1Mv * n) / 100)
                u16(d, 6, t.packLowL2dV || (t.cellLowL2Mv * n) / 100)
                return [replyFrame(0x5a, d)]
            }
            case 0x61: {
                const c = m.clock()
                d[0] = c.getUTCFullYear() % 100
                d[1] = c.getUTCMonth() + 1
                d[2] = c.getUTCDate()
                d[3] = c.getUTCHours()
                d[4] = c.getUTCMinutes()
                d[5] = c.getUTCSeconds()
                u16(d, 6, m.soc * 10)
                return [replyFrame(0x61, d)]
            }
            case 0xd9:
            case 0xda: {
                const on = data[0] === 1
                if (dataId === 0xd9) m.dischargeMos = on
                else m.chargeMos = on
                this.emit("command", { dataId, on })
                d[0] = on ? 1 : 0
                return [replyFrame(dataId, d)]
            }
            case 0x00:
                m.life = 0
                m.chargeMos = true
                m.dischargeMos = true
                this.emit("command", { dataId })
                d[0] = 1
                return [replyFrame(0x00, d)]
            case 0x21: {
                const [yy, mo, dd, hh, mi, ss] = data
                const soc10 = data.readUInt16BE(6)
                const date = new Date(Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss))
                const valid =
                    mo >= 1 && mo <= 12 && dd >= 1 && dd <= 31 && hh < 24 && mi < 60 && ss < 60 && soc10 <= 1000
                if (valid) {
                    m.setClock(date)
                    m.soc = soc10 / 10
                    this.emit("command", { dataId, soc: soc10 / 10, date })
                }
                d[0] = valid ? 1 : 0
                return [replyFrame(0x21, d)]
            }
            default:
                return [] // settings writes and unknown ids: no answer, as real units do
        }
    }

    cellFrames(count) {
        const cells = this.model.cellVoltagesMv()
        const frames = []
        for (let f = 0; f < count; f++) {
            const b = Buffer.alloc(8)
            b[0] = f + 1
            for (let i = 0; i < 3; i++) u16(b, 1 + 2 * i, cells[f * 3 + i] ?? 0)
            frames.push(replyFrame(0x95, b))
        }
        return frames
    }

    /** Decide the faults for this reply and return the bytes to send. */
    applyFaults(dataId, frames, previous = this.lastReplies.get(dataId)) {
        let kind = this.onceFaults.shift()
        if (!kind && this.faultRate > 0 && this.random() < this.faultRate)
            kind = this.faultKinds[Math.floor(this.random() * this.faultKinds.length)]
        if (!kind) return Buffer.concat(frames)
        this.stats.faults++
        this.emit("fault", { kind, dataId })
        const pick = n => Math.floor(this.random() * n)
        switch (kind) {
            case "bad_checksum": {
                const out = frames.map(f => Buffer.from(f))
                const f = out[pick(out.length)]
                f[f.length - 1] = (f[f.length - 1] + 1 + pick(254)) & 0xff // 0xA5 sum, or CRC high byte
                return Buffer.concat(out)
            }
            case "truncated": {
                const all = Buffer.concat(frames)
                if (this.modbusParser) return all.subarray(0, 1 + pick(all.length - 1))
                const frameIndex = pick(frames.length)
                return all.subarray(0, frameIndex * FRAME_LENGTH + 1 + pick(FRAME_LENGTH - 1))
            }
            case "stale_frame": {
                const stale = this.lastReply?.[this.lastReply.length - 1] ?? replyFrame(0x90, Buffer.alloc(8))
                return Buffer.concat([stale, ...frames])
            }
            case "garbage": {
                const junk = Buffer.from(Array.from({ length: 1 + pick(12) }, () => pick(256)))
                if (this.random() < 0.5) junk[0] = this.scheme?.reply ?? 0xa5 // a false start byte tests the resync
                const at = pick(frames.length + 1)
                return Buffer.concat([...frames.slice(0, at), junk, ...frames.slice(at)])
            }
            case "leftover": {
                // a frame of this id's previous reply, before the new reply (jblance/mpp-solar#516)
                const prev = previous ?? frames
                return Buffer.concat([prev[pick(prev.length)], ...frames])
            }
            case "extra_frames":
                if (dataId === 0x95 && !this.modbusParser) return Buffer.concat(this.cellFrames(16))
                return Buffer.concat([...frames, frames[frames.length - 1]])
        }
        return Buffer.concat(frames)
    }

    /** Faults at random: `rate` is the share of replies hit (0..1), `kinds` a subset of FAULT_KINDS. */
    setFaults({ rate = 0, kinds = this.modbusParser ? MODBUS_FAULT_KINDS : FAULT_KINDS } = {}) {
        const known = this.modbusParser ? MODBUS_FAULT_KINDS : FAULT_KINDS
        for (const k of kinds) if (!known.includes(k)) throw new Error(`unknown fault kind: ${k}`)
        this.faultRate = rate
        this.faultKinds = kinds
    }

    /** The next reply gets this fault. */
    injectOnce(kind) {
        if (!(this.modbusParser ? MODBUS_FAULT_KINDS : FAULT_KINDS).includes(kind)) throw new Error(`unknown fault kind: ${kind}`)
        this.onceFaults.push(kind)
    }

    /**
     * From now on every reply to `dataId` is preceded by frame `frameNumber` (1-based) of its last
     * reply so far: a checksum-valid leftover of an old reply. `null` stops it.
     */
    leftover(dataId, frameNumber) {
        if (frameNumber === null) return this.leftovers.delete(dataId)
        const prev = this.lastReplies.get(dataId) ?? this.respond({ dataId, data: Buffer.alloc(8) })
        if (!prev[frameNumber - 1]) throw new Error(`data id 0x${dataId.toString(16)} has no frame ${frameNumber}`)
        this.leftovers.set(dataId, Buffer.from(prev[frameNumber - 1]))
    }

    sleep() {
        if (!this.asleep) this.emit("sleep")
        this.asleep = true
    }

    wake() {
        if (this.asleep) this.emit("wake")
        this.asleep = false
        this.model.idleSinceMs = Date.now()
    }

    close() {
        this.wire.close()
    }
}
