// The poll loop: one continuous cycle over 0x90-0x98 (every cell and temperature frame), slow data
// interleaved rarely, commands interleaved between requests. The next request goes out as soon as
// the previous reply is complete; a request that gets no valid reply is retried REQUEST_ATTEMPTS
// times; a cycle with a failed request does not publish anything.
import * as ds from "@devicescript/core"
import { ADDRESS_APP, ADDRESS_PC, FRAME_LENGTH, FrameSequence } from "./frame"
import { BmsInfo, BmsReadings, decodeInfo, decodeReading, framesFor } from "./decode"
import { LINK_ERROR, LINK_OK, LinkState } from "./link-state"
import { buildSnapshot, readingsComplete } from "./snapshot"
import { publishInfo, publishLink, publishPaused, publishSnapshot } from "./store"
import { BmsUart } from "./uart"
import { WallClock } from "../platform/clock"

/** The fast cycle; 0x94 first, so that the cell and sensor counts of 0x95/0x96 are known. */
export const FAST_IDS = [0x94, 0x90, 0x91, 0x92, 0x93, 0x95, 0x96, 0x97, 0x98]
/** Slow data: each read once at start, then one of them every SLOW_EVERY_CYCLES cycles. */
export const SLOW_IDS = [0x50, 0x53, 0x57, 0x59, 0x5a, 0x61]
export const SLOW_EVERY_CYCLES = 20
export const REQUEST_ATTEMPTS = 3
/** Reply timeout: this much plus the wire time of the expected frames. */
export const REPLY_TIMEOUT_BASE_MS = 100
const BYTE_MS = 10000 / 9600
/** While the link is down: one 0x90 probe this often (alternating addresses until one answers). */
export const ERROR_PROBE_INTERVAL_MS = 2000
const COMMAND_TIMEOUT_MS = 300

export interface PollerOptions {
    /** the remembered request address (0x40 or 0x80), 0 when unknown */
    address: number
    invertCurrent: boolean
    /** called when the BMS answered on another address than the remembered one */
    onAddressFound: (address: number) => Promise<void>
}

interface Command {
    dataId: number
    data: Buffer
    done: boolean
    ok: boolean
}

function isMultiFrame(dataId: number) {
    return dataId === 0x95 || dataId === 0x96
}

function replyTimeout(frames: number) {
    return REPLY_TIMEOUT_BASE_MS + Math.ceil((1 + frames) * FRAME_LENGTH * BYTE_MS)
}

export class BmsPoller {
    readonly link = new LinkState()
    private address: number
    private confirmedAddress = 0
    private info: BmsInfo = {}
    private cellCount = 0
    private sensorCount = 0
    private cycles = 0
    private slowIndex = 0
    private slowDone: number[] = []
    private commands: Command[] = []
    private commandRan = false
    private readonly commandDone = ds.emitter<number>()
    /** statistics for the Jacdac service and the benchmark */
    completedCycles = 0
    failedRequests = 0
    lastCycleMs = 0

    constructor(private uart: BmsUart, private options: PollerOptions) {
        this.address = options.address === ADDRESS_APP ? ADDRESS_APP : ADDRESS_PC
    }

    private pauseRequested = false
    private paused = false
    private readonly pauseChanged = ds.emitter<number>()

    async run() {
        for (;;) {
            if (this.pauseRequested) {
                this.paused = true
                this.pauseChanged.emit(1)
                while (this.pauseRequested) await ds.wait(this.pauseChanged, 1000)
                this.paused = false
                continue
            }
            // while the link is down, a full cycle only follows a probe that got an answer
            if (this.link.state === LINK_ERROR && !(await this.probe())) continue
            await this.cycle()
        }
    }

    /** Stops polling once the request under way is answered; resolves when the UART is free. */
    async pause() {
        this.pauseRequested = true
        publishPaused(true)
        while (!this.paused) await ds.wait(this.pauseChanged, 100)
    }

    resume() {
        this.pauseRequested = false
        publishPaused(false)
        this.pauseChanged.emit(1)
    }

    /** One fast cycle (plus one slow read when due); publishes a snapshot when complete. */
    private async cycle() {
        const start = ds.millis()
        const r: BmsReadings = {}
        this.commandRan = false
        let previous = 0
        for (const id of FAST_IDS) {
            if (this.pauseRequested) return // the PCMaster bridge takes the UART: no failure
            await this.runCommands()
            if (this.commandRan) return // restart: the snapshot must show what the command did
            const ok = (await this.read(id, r)) && (!previous || this.takeLate(previous, r))
            previous = id
            if (!ok) {
                if (id === 0x94 || id === 0x90) this.maybeSwitchAddress()
                return this.cycleFailed()
            }
            if (id === 0x94) {
                this.cellCount = r.cellCount
                this.sensorCount = r.sensorCount
            }
        }
        if (!readingsComplete(r)) return this.cycleFailed()
        this.cycles++
        await this.readSlowIfDue()
        const now = ds.millis()
        this.lastCycleMs = now - start
        this.completedCycles++
        publishSnapshot(buildSnapshot(r, this.info, this.options.invertCurrent, now, this.lastCycleMs))
        if (this.link.succeeded()) publishLink(LINK_OK)
        await this.confirmAddress()
    }

    private cycleFailed() {
        if (this.link.failed()) publishLink(LINK_ERROR)
    }

    /** While the link is down: a gentle 0x90 now and then; true when the BMS answered. */
    private async probe() {
        const r: BmsReadings = {}
        if (await this.read(0x90, r, 1)) return true
        this.maybeSwitchAddress()
        await ds.sleep(ERROR_PROBE_INTERVAL_MS)
        return false
    }

    private maybeSwitchAddress() {
        if (this.confirmedAddress) return
        this.address = this.address === ADDRESS_PC ? ADDRESS_APP : ADDRESS_PC
    }

    private async confirmAddress() {
        if (this.confirmedAddress === this.address) return
        this.confirmedAddress = this.address
        publishInfo(this.info, this.address)
        if (this.address !== this.options.address) await this.options.onAddressFound(this.address)
    }

    /** Reads one data id into `r` with retries; true when every expected frame was valid. */
    private async read(dataId: number, r: BmsReadings, attempts = REQUEST_ATTEMPTS) {
        const frames = framesFor(dataId, this.cellCount, this.sensorCount)
        for (let attempt = 0; attempt < attempts; attempt++) {
            if (await this.attempt(dataId, frames, r)) return true
            this.failedRequests++
        }
        return false
    }

    /** One request; true when every expected frame arrived valid and sane, in order 1..N. */
    private async attempt(dataId: number, frames: number, r: BmsReadings) {
        const seq = new FrameSequence(frames)
        const multi = isMultiFrame(dataId)
        const uart = this.uart
        const address = this.address
        return await uart.request(address, dataId, replyTimeout(frames), (f: Buffer) => {
            if (multi && !seq.accepts(f[4])) return false // a leftover, repeat or jump: discarded
            if (!decodeReading(f, r)) return false // absurd: not trusted, keep waiting or retry
            seq.taken()
            return seq.complete()
        })
    }

    /**
     * After the request that followed a one-frame reply of `dataId`: a frame of that id that arrived
     * late means the one taken may have been a leftover of an older reply; the last frame the BMS
     * sent wins. False when that frame is absurd (the cycle fails).
     */
    private takeLate(dataId: number, r: BmsReadings) {
        if (dataId === 0x94 || framesFor(dataId, this.cellCount, this.sensorCount) !== 1) return true
        for (const f of this.uart.late) {
            if (isMultiFrame(dataId) && f[4] !== 1) continue // extra frames beyond the count
            if (!decodeReading(f, r)) return false
        }
        return true
    }

    private async readSlowIfDue() {
        const done = this.slowDone
        const pending = SLOW_IDS.filter(id => done.indexOf(id) < 0)
        let id = 0
        if (pending.length) id = pending[0]
        else if (this.cycles % SLOW_EVERY_CYCLES === 0) {
            id = SLOW_IDS[this.slowIndex]
            this.slowIndex = (this.slowIndex + 1) % SLOW_IDS.length
        }
        if (!id) return
        // a slow read that fails is tried again later; it never fails the link
        if ((await this.readInfo(id)) && this.slowDone.indexOf(id) < 0) this.slowDone.push(id)
        publishInfo(this.info, this.address)
    }

    private async readInfo(id: number) {
        const frames = framesFor(id, this.cellCount, this.sensorCount)
        const info = this.info
        const seq = new FrameSequence(frames)
        const uart = this.uart
        const address = this.address
        return await uart.request(address, id, replyTimeout(frames), (f: Buffer) => {
            if (frames > 1 && !seq.accepts(f[4])) return false
            if (!decodeInfo(f, info)) return false
            seq.taken()
            return seq.complete()
        })
    }

    private async runCommands() {
        while (this.commands.length) {
            const c = this.commands.shift()
            let reply: Buffer = null
            for (let attempt = 0; attempt < REQUEST_ATTEMPTS && !reply; attempt++) reply = await this.commandReply(c)
            c.ok = !!reply && (c.dataId === 0x21 || c.dataId === 0x00 ? reply[4] === 1 : reply[4] === c.data[0])
            c.done = true
            this.commandRan = true
            this.commandDone.emit(1)
        }
    }

    private async commandReply(c: Command) {
        let reply: Buffer = null
        const uart = this.uart
        const address = this.address
        await uart.request(address, c.dataId, COMMAND_TIMEOUT_MS, (f: Buffer) => {
            reply = f
            return true
        }, c.data)
        return reply
    }

    /**
     * Sends a write command between two requests of the poll and returns whether the BMS's reply
     * confirmed it. False at once while the link is down.
     */
    async command(dataId: number, data: Buffer): Promise<boolean> {
        if (this.link.state !== LINK_OK || this.pauseRequested) return false
        const c: Command = { dataId, data, done: false, ok: false }
        this.commands.push(c)
        const deadline = ds.millis() + 5000
        while (!c.done && ds.millis() < deadline) await ds.wait(this.commandDone, 500)
        return c.ok
    }

    async setChargeMos(on: boolean) {
        return await this.command(0xda, Buffer.from([on ? 1 : 0]))
    }

    async setDischargeMos(on: boolean) {
        return await this.command(0xd9, Buffer.from([on ? 1 : 0]))
    }

    async resetBms() {
        return await this.command(0x00, Buffer.alloc(0))
    }

    /** Sets the SOC (0-100 %, 0.1 % steps) together with the BMS clock. */
    async setSoc(socPct: number, clock: WallClock) {
        const soc = Math.round(socPct * 10)
        if (!(soc >= 0 && soc <= 1000)) return false
        const d = Buffer.from([clock.year % 100, clock.month, clock.day, clock.hour, clock.minute, clock.second, soc >> 8, soc & 0xff])
        return await this.command(0x21, d)
    }
}
