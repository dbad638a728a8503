// The poll loop of the one BMS link, for both protocols (docs/bms.md). The protocol and address are
// detected at start and after the link is lost (0xA5 at 0x40 and 0x80, then D2, then 0x80+board),
// or forced by a setting. 0xA5: one continuous cycle over 0x90-0x98 (every cell and temperature
// frame); the newer Modbus-style units: one block read of the live registers. Slow data is read
// rarely and apart, commands go out between requests. The next request goes out as soon as the
// previous reply is complete; a request that gets no valid reply is retried REQUEST_ATTEMPTS
// times; a cycle with a failed request does not publish anything.
import * as ds from "@devicescript/core"
import { ADDRESS_APP, ADDRESS_PC, FRAME_LENGTH, FrameSequence } from "./frame"
import { BmsInfo, BmsReadings, decodeInfo, decodeReading, framesFor } from "./decode"
import { FAILED_CYCLES_FOR_ERROR, LINK_ERROR, LINK_OK, LinkState } from "./link-state"
import { D2_ADDRESS, modbusRequest, FN_READ, FN_WRITE, P81_REPLY_BASE, P81_REQUEST_BASE } from "./modbus-frame"
import { decodeLive, decodeSlow, PROTO_A5, PROTO_D2, PROTOCOL_NAMES, scheme } from "./registers"
import { buildSnapshot } from "./snapshot"
import { publishInfo, publishLink, publishPaused, publishSnapshot } from "./store"
import { BmsUart } from "./uart"
import { WallClock } from "../platform/clock"
import { Signal } from "../platform/signal"

/** The fast cycle; 0x94 first, so that the cell and sensor counts of 0x95/0x96 are known. */
export const FAST_IDS = [0x94, 0x90, 0x91, 0x92, 0x93, 0x95, 0x96, 0x97, 0x98]
/** Slow data (rated capacity, battery code): each read once at start, then one every SLOW_EVERY_CYCLES cycles. */
export const SLOW_IDS = [0x50, 0x57]
export const SLOW_EVERY_CYCLES = 20
export const REQUEST_ATTEMPTS = 3
/** Reply timeout: this much plus the wire time of the expected frames. */
export const REPLY_TIMEOUT_BASE_MS = 100
const BYTE_MS = 10000 / 9600
/**
 * While the link is down: one probe this often, the last protocol and address that answered every
 * second probe and the other candidates in turn between (a unit swapped for another generation).
 */
export const ERROR_PROBE_INTERVAL_MS = 1000
const COMMAND_TIMEOUT_MS = 300

export interface PollerOptions {
    /** what answered last: protocol (PROTO_*) << 8 | request address, 0 when unknown */
    found: number
    /** 0: detect; else the only protocol tried */
    force: number
    /** board number of the 0x81 scheme */
    board: number
    invertCurrent: boolean
    /** called when the BMS answered with another protocol or address than `found` */
    onFound: (found: number, protocolName: string) => Promise<void>
}

/** The switches setSwitch takes: charge MOS, discharge MOS, balancer (their register names in SCHEMES). */
export type SwitchName = "chg" | "dsg" | "balancer"

/** A command: 0xA5 data id and data, or (data id -1) a Modbus-style register and value. */
interface Command {
    dataId: number
    data: Buffer
    register: number
    value: number
    done: boolean
    ok: boolean
}



export class BmsPoller {
    readonly link = new LinkState()
    /** the protocol and request address in use; `found`: they answered since the link was lost */
    protocol = PROTO_A5
    address = ADDRESS_PC
    found = false
    private quickDetect = true
    private probes = 0
    /** the protocol and address that answered last (protocol << 8 | address), 0 when none did */
    private remembered = 0
    private info: BmsInfo = {}
    private cellCount = 0
    private sensorCount = 0
    private cycles = 0
    private slowIndex = 0
    private commands: Command[] = []
    private commandRan = false
    private readonly commandDone = new Signal()
    /** statistics for the Jacdac service and the benchmark */
    completedCycles = 0
    failedRequests = 0
    lastCycleMs = 0

    constructor(private uart: BmsUart, private options: PollerOptions) {
        this.remembered = options.found
    }

    /**
     * Finds the BMS among the remembered protocol and address, then 0xA5 at 0x40 and 0x80, D2 and
     * 0x80+board (only the forced protocol's when one is forced): at start and right after the link
     * was lost each once; then one probe every ERROR_PROBE_INTERVAL_MS, every second one the
     * remembered, the others in turn between. True when one answered: it is then in use.
     */
    private async detect() {
        const o = this.options
        const quick = this.quickDetect
        this.quickDetect = false
        this.probes++
        const pick = this.probes % 2 ? 0 : 1 + ((this.probes >> 1) % 4)
        const list = [this.remembered, 0x140, 0x180, 0x2d2, 0x380 + o.board]
        for (let i = 0; i < 5; i++) {
            const c = list[i]
            if ((!quick && i !== pick) || c < 0x100 || (o.force && c >> 8 !== o.force)) continue
            this.protocol = c >> 8
            this.address = c & 0xff
            this.slowIndex = 0
            if (this.protocol === PROTO_A5 ? await this.read(0x90, {}, 1) : await this.readRegisters(0, 1, 1)) return (this.found = true)
        }
        // nothing answers at start or after the loss: the link is down at once (no cycle can run)
        if (quick) {
            this.link.failedCycles = FAILED_CYCLES_FOR_ERROR
            this.cycleFailed()
        } else await ds.sleep(ERROR_PROBE_INTERVAL_MS)
        return false
    }

    private pauseRequested = false
    private paused = false
    private readonly pauseChanged = new Signal()

    /** ds.millis() when the poll loop last went round (the watchdog's view; paused counts as alive) */
    aliveAt = 0

    async run() {
        for (;;) {
            this.aliveAt = ds.millis()
            if (this.pauseRequested) {
                this.paused = true
                this.pauseChanged.emit(1)
                while (this.pauseRequested) {
                    this.aliveAt = ds.millis()
                    await this.pauseChanged.wait(1000)
                }
                this.paused = false
                continue
            }
            // a full cycle only follows a probe that got an answer
            if (this.found || (await this.detect())) await this.cycle()
        }
    }

    /** Stops polling once the request under way is answered; resolves when the UART is free. */
    async pause() {
        this.pauseRequested = true
        publishPaused(true)
        while (!this.paused) await this.pauseChanged.wait(100)
    }

    resume() {
        this.pauseRequested = false
        publishPaused(false)
        this.pauseChanged.emit(1)
    }

    /**
     * One cycle (plus one slow read when due); publishes a snapshot when complete. 0xA5: the fast
     * ids in turn, commands between them; newer units: commands, then the live registers.
     */
    private async cycle() {
        const start = ds.millis()
        const r: BmsReadings = {}
        this.commandRan = false
        if (this.protocol === PROTO_A5) {
            let previous = 0
            for (const id of FAST_IDS) {
                if (this.pauseRequested) return // the PCMaster bridge takes the UART: no failure
                await this.runCommands()
                if (this.commandRan) return // restart: the snapshot must show what the command did
                const ok = (await this.read(id, r)) && (!previous || this.takeLate(previous, r))
                previous = id
                if (!ok) return this.cycleFailed()
                if (id === 0x94) {
                    this.cellCount = r.cellCount
                    this.sensorCount = r.sensorCount
                }
            }
        } else {
            await this.runCommands()
            if (this.commandRan || this.pauseRequested) return
            if (!(await this.readLive(r))) return this.cycleFailed()
        }
        // every read of the cycle succeeded, cells and temperatures frame by frame in order 1..N, so
        // the readings are complete (readingsComplete, checked by the unit tests)
        this.cycles++
        await this.readSlowIfDue()
        const now = ds.millis()
        this.lastCycleMs = now - start
        this.completedCycles++
        publishSnapshot(buildSnapshot(r, this.info, this.options.invertCurrent, now, this.protocol, this.address))
        publishInfo(this.info)
        if (this.link.succeeded()) publishLink(LINK_OK)
        const found = (this.protocol << 8) | this.address
        if (found === this.remembered) return
        this.remembered = found
        await this.options.onFound(found, PROTOCOL_NAMES[this.protocol])
    }

    private cycleFailed() {
        if (!this.link.failed()) return
        publishLink(LINK_ERROR)
        // the unit may have been swapped for another generation: detect again
        this.found = false
        this.quickDetect = true
        this.info = {}
    }

    /**
     * The live registers of the scheme in as few reads as units are known to answer (D2: 80
     * registers in one read; 0x81: two, as no read beyond 81 registers was ever seen), decoded into
     * `r`; false when a read got no valid reply or the values are absurd.
     */
    private async readLive(r: BmsReadings) {
        let data: Buffer = null
        for (const read of scheme(this.protocol).live) {
            const d = await this.readRegisters(read[0], read[1], REQUEST_ATTEMPTS)
            if (!d) return false
            data = data ? data.concat(d) : d
        }
        return decodeLive(this.protocol, data, r)
    }

    /** Reads `count` registers from `start`: their data bytes, or null when no valid reply came. */
    private async readRegisters(start: number, count: number, attempts: number) {
        const reply = await this.modbus(FN_READ, start, count, attempts)
        return reply ? reply.slice(3, 3 + 2 * count) : null
    }

    /** A Modbus-style request (read: `value` registers; write: the value) and its reply, or null. */
    private async modbus(fn: number, register: number, value: number, attempts: number) {
        const length = fn === FN_READ ? 5 + 2 * value : 8
        const reply = this.protocol === PROTO_D2 ? D2_ADDRESS : this.address - P81_REQUEST_BASE + P81_REPLY_BASE // 0x81 → 0x51
        for (let attempt = 0; attempt < attempts; attempt++) {
            const got = await this.uart.requestModbus(modbusRequest(this.address, fn, register, value), reply, fn, length, REPLY_TIMEOUT_BASE_MS + Math.ceil((8 + length) * BYTE_MS))
            if (got) return got
            this.failedRequests++
        }
        return null
    }

    /**
     * Reads one data id into `r` (or, slow data, into the info) with retries; true when every
     * expected frame arrived valid and sane, in order 1..N.
     */
    private async read(dataId: number, r: BmsReadings, attempts = REQUEST_ATTEMPTS, slow = false) {
        const frames = framesFor(dataId, this.cellCount, this.sensorCount)
        const info = this.info
        const seq = new FrameSequence(frames)
        const multi = frames > 1 || dataId === 0x95 || dataId === 0x96
        const accept = (f: Buffer) => {
            if (multi && !seq.offer(f[4])) return false // a leftover, repeat or jump: discarded
            // absurd: not trusted, the attempt fails (a frame number in order is in range)
            return (slow ? decodeInfo(f, info) : decodeReading(f, r)) && (!multi || seq.complete())
        }
        for (let attempt = 0; attempt < attempts; attempt++) {
            seq.next = 1
            // timeout: this much plus the wire time of the request and the expected frames
            if (await this.uart.request(this.address, dataId, REPLY_TIMEOUT_BASE_MS + Math.ceil((1 + frames) * FRAME_LENGTH * BYTE_MS), accept)) return true
            this.failedRequests++
        }
        return false
    }

    /**
     * After the request that followed a one-frame reply of `dataId`: a frame of that id that arrived
     * late means the one taken may have been a leftover of an older reply; the last frame the BMS
     * sent wins. False when that frame is absurd (the cycle fails).
     */
    private takeLate(dataId: number, r: BmsReadings) {
        if (dataId === 0x94 || framesFor(dataId, this.cellCount, this.sensorCount) > 1) return true
        // (late 0x95/0x96 frames other than 1 are extras beyond the count: decoding drops them)
        for (const f of this.uart.late) if (!decodeReading(f, r)) return false
        return true
    }

    /**
     * Slow data: each read tried once at start (one per cycle), then one every SLOW_EVERY_CYCLES
     * cycles in turn. 0xA5: SLOW_IDS; newer units: the scheme's (versions, balancer switch, D2 rated
     * capacity). One attempt: a unit that leaves them unanswered still gives a full snapshot.
     */
    private async readSlowIfDue() {
        const a5 = this.protocol === PROTO_A5
        const list: any[] = a5 ? SLOW_IDS : scheme(this.protocol).slow
        if (this.slowIndex >= list.length && this.cycles % SLOW_EVERY_CYCLES) return
        const e = list[this.slowIndex++ % list.length]
        if (a5) await this.read(e, null, 1, true)
        else {
            const d = await this.readRegisters(e[0], e[1], 1)
            if (d) decodeSlow(e[2], d, this.info)
        }
    }


    /**
     * Runs the queued commands. 0xA5: the reply confirms it (MOS: B0 echoes the state; 0x21 and 0x00:
     * B0 = 1). Newer units: function 06, confirmed by the echo (register and value), then by reading
     * the register back (switches: zero or not; SOC: equal), except a restart, which stops replies.
     */
    private async runCommands() {
        while (this.commands.length) {
            const c = this.commands.shift()
            let reply: Buffer = null
            if (c.dataId >= 0) {
                const accept = (f: Buffer) => !!(reply = f)
                for (let attempt = 0; attempt < REQUEST_ATTEMPTS && !reply; attempt++) await this.uart.request(this.address, c.dataId, COMMAND_TIMEOUT_MS, accept, c.data)
                c.ok = !!reply && reply[4] === (c.dataId === 0x21 || !c.dataId ? 1 : c.data[0])
            } else {
                reply = await this.modbus(FN_WRITE, c.register, c.value, REQUEST_ATTEMPTS)
                const restart = c.register === scheme(this.protocol).restart
                const echoed = !!reply && reply.readUInt16BE(2) === c.register && reply.readUInt16BE(4) === c.value
                const d = echoed && !restart ? await this.readRegisters(c.register, 1, REQUEST_ATTEMPTS) : null
                const v = d ? d.readUInt16BE(0) : 0
                c.ok = echoed && (restart || (!!d && (c.value > 1 ? v === c.value : !v === !c.value)))
                this.slowIndex = 0 // the slow data (the balancer switch with it) is read again from the next cycle on
            }
            c.done = true
            this.commandRan = true
            this.commandDone.emit(1)
        }
    }

    /**
     * Sends a command between two requests of the poll and returns whether the BMS confirmed it:
     * an 0xA5 command (`dataId`, `data`) or, on a newer unit, a write (`dataId` -1). False at once
     * while the link is down or for a command of the other protocol.
     */
    private async queue(dataId: number, data: Buffer, register = 0, value = 0) {
        if (this.link.state !== LINK_OK || this.pauseRequested || dataId < 0 === (this.protocol === PROTO_A5)) return false
        const c: Command = { dataId, data, register, value, done: false, ok: false }
        this.commands.push(c)
        const deadline = ds.millis() + 5000
        while (!c.done && ds.millis() < deadline) await this.commandDone.wait(500)
        return c.ok
    }

    /**
     * Sets a switch, by its register name in the schemes: "chg" the charge MOS (0xA5: command 0xDA),
     * "dsg" the discharge MOS (0xA5: 0xD9), "balancer" the balancer of a newer unit (register 0xCF in
     * both schemes; false on a 0xA5 unit). 0xA5: the command with B0 = on; newer units: the register,
     * read back after the echo.
     */
    async setSwitch(key: SwitchName, on: boolean) {
        if (this.protocol === PROTO_A5) return await this.queue(key === "chg" ? 0xda : key === "dsg" ? 0xd9 : -1, Buffer.from([on ? 1 : 0]))
        return await this.queue(-1, null, scheme(this.protocol)[key], on ? 1 : 0)
    }

    /** 0xA5: command 0x00; D2: restart (0xF0), confirmed by its echo; the 0x81 scheme has none known. */
    async resetBms() {
        if (this.protocol === PROTO_A5) return await this.queue(0x00, Buffer.alloc(0))
        const restart = scheme(this.protocol).restart
        return restart ? await this.queue(-1, null, restart, 1) : false
    }

    /**
     * Sets the SOC (0-100 %, 0.1 % steps). 0xA5 units take it together with the BMS clock (refused
     * without one); newer units through their SOC register, read back.
     */
    async setSoc(socPct: number, clock: WallClock) {
        const soc = Math.round(socPct * 10)
        if (!(soc >= 0 && soc <= 1000)) return false
        if (this.protocol !== PROTO_A5) return await this.queue(-1, null, scheme(this.protocol).soc, soc)
        if (!clock) return false
        const d = Buffer.from([clock.year % 100, clock.month, clock.day, clock.hour, clock.minute, clock.second, soc >> 8, soc & 0xff])
        return await this.queue(0x21, d)
    }

}
