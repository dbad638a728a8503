// The DeviceScript VM (WebAssembly) of one dongle, run in the host runtime's own process: it talks to
// the host's bus over the VM link (host/vm-link.mjs), runs the firmware image and keeps its flash
// (program and settings) in STATE/.devicescript/flash/sim.bin.
//
// In the host's process, not a child process of its own: each frame between the bus and the VM is a
// function call instead of a write, a wake-up and a read on both ends of a pipe, and the host runtime
// is one Node process, not two (docs/host-runtime.md, "Idle cost": half the idle CPU and 50 MB of
// memory). Starting a new VM instance (a fresh WebAssembly memory, the image deployed from the flash
// file) is exactly what the EN button does to the chip.
//
// How a VM ends, and what the host makes of it (host/dongle.mjs):
// - the program reboots the chip (ds.reboot(): the VM's exit with status 0) → onReboot;
// - the VM's C code aborts (a failed assertion, abort()), exits with another status, or one of its
//   turns throws (a WebAssembly trap) → onCrash(why), the chip's panic reset;
// - crash() (key `p`) aborts it the same way, on purpose.
// A program's uncaught exception (PANIC 60004...) is not an end: the VM restarts the program itself.
//
// One change to the VM, on the host only: DeviceScript throttles the packets a program sends to
// 20 ms each after a burst of five (jdiface.c, THROTTLE_COST_MS), so every awaited Jacdac command
// costs a 20 ms tick once traffic flows. On the host that throttle, not the work, made a Modbus
// request take 60 ms and a status page 250 ms (docs/host-runtime.md). packetCostMs (default 1) sets
// the cost per packet; 20 is the chip's timing.
//
// And one more, for the idle cost: jacdac-c wakes the VM at least every 10 ms (each turn starts with
// jd_max_sleep = 10000 us) so that the chip's services can poll their hardware. A program timer, a
// service's deadline or a frame from the bus wakes it sooner, so the 10 ms only matter to polled
// hardware, and the host's VM polls none: it sleeps up to 50 ms instead. Measured: 115 -> 41 VM turns
// a second while idle, the same ~110 a second while a program timer ticks every 10 ms (a PCMaster
// session), PCMaster replies as fast. With the chip's timing (packetCostMs 20) both stay the chip's.
import { createRequire } from "node:module"
import fs from "node:fs"
import path from "node:path"

const require = createRequire(import.meta.url)
const { loadVm, setPacketCost, setIdleSleep, DEVICE_COST_MS } = require("./vm-module.cjs")
const { installHeapMeter } = require("./heap-meter.cjs")

/** The VM's flash: the ESP32-C3's fstor partition (devicescript-esp32: 64 pages of 4 KB). */
export const FLASH_BYTES = 256 * 1024
/** What `devs run` gave the VM before: a flash file of this size is kept at it (its settings stay). */
export const OLD_FLASH_BYTES = 128 * 1024
const FLASH_FILE = path.join(".devicescript", "flash", "sim.bin")
const DEFAULT_PACKET_COST_MS = 1
const HOST_IDLE_SLEEP_US = 50000

const FSTOR_MAGIC = [0x52545346, 0x6becea0a]

/**
 * The flash size for a state folder: 256 KB, or 128 KB when its flash was made at that size. The
 * size is in the header of DeviceScript's flash store (jacdac-c's jd_fstor: magic, magic,
 * generation, page size, total pages u16), at the start of the flash or, its second copy, after the
 * header pages; the store rejects a header of another size, which would lose the settings.
 */
export function flashBytesFor(stateDir) {
    let b
    try {
        b = fs.readFileSync(path.join(stateDir, FLASH_FILE))
    } catch {
        return FLASH_BYTES
    }
    for (const off of [0, 2 * 4096, 4 * 4096])
        if (b.length >= off + 18 && b.readUInt32LE(off) === FSTOR_MAGIC[0] && b.readUInt32LE(off + 4) === FSTOR_MAGIC[1])
            return b.readUInt32LE(off + 12) * b.readUInt16LE(off + 16) === OLD_FLASH_BYTES ? OLD_FLASH_BYTES : FLASH_BYTES
    return FLASH_BYTES
}

let loaded = null // the VM module, loaded once per process
const binaries = new Map() // packet cost → the VM's binary with that throttle

function vmBinary(costMs) {
    if (!loaded) {
        loaded = loadVm()
        // the heap meter (SMARTBMS_HEAP_LOG, host/heap-meter.cjs) wraps the VMs started from now on
        if (process.env.SMARTBMS_HEAP_LOG)
            installHeapMeter(process.env.SMARTBMS_HEAP_LOG, process.env.SMARTBMS_HEAP_GC_STRESS === "1", process.env.SMARTBMS_HEAP_CENSUS)
    }
    let binary = binaries.get(costMs)
    if (!binary) {
        binary = loaded.wasmBinary.slice()
        if (costMs !== DEVICE_COST_MS && !setPacketCost(binary, costMs)) {
            process.stderr.write(`the VM's packet throttle was not found: running with the chip's ${DEVICE_COST_MS} ms per packet\n`)
            binary = loaded.wasmBinary
        }
        // the host's VM sleeps up to 50 ms when nothing asks for sooner (see above); the chip's
        // timing (--chip-timing, 20 ms per packet) keeps the chip's 10 ms
        if (costMs !== DEVICE_COST_MS && !setIdleSleep(binary, HOST_IDLE_SLEEP_US))
            process.stderr.write("the VM's idle sleep was not found: it wakes every 10 ms, as on the chip\n")
        binaries.set(costMs, binary)
    }
    return binary
}

/** The VM's console as `devs run` prints it: dmesg lines with a marker (`# 123 text` has its time). */
function dmesgText(line) {
    const m = /^\s*([*!?>#]) (.*)/.exec(line)
    if (!m) return null
    if (m[1] !== "#") return m[2]
    const sp = m[2].indexOf(" ")
    return sp < 0 ? m[2] : `${m[2].slice(0, sp)}ms ${m[2].slice(sp + 1)}`
}

/**
 * Starts a VM; returns at once (it loads in the background).
 * @param {object} o
 * @param {string} o.image the firmware (.devs)
 * @param {string} o.stateDir flash lives here
 * @param {import('./vm-link.mjs').VmLink} o.link the host's end of the Jacdac link
 * @param {number} [o.packetCostMs] the VM's throttle per sent packet (default 1 ms; the chip's is 20)
 * @param {number} o.flashBytes the VM's flash (flashBytesFor(stateDir))
 * @param {string} o.deviceId 16 hex digits
 * @param {(line:string)=>void} o.onConsole one line of the dongle's console
 * @param {(why:string)=>void} o.onCrash the VM died by itself (or by crash()): the chip's panic reset
 * @param {()=>void} o.onReboot the program called ds.reboot(): the chip resets
 */
export function startVm(o) {
    return new Vm(o)
}

class Vm {
    constructor(o) {
        this.o = o
        this.inst = null
        this.sockets = new Set()
        this.ended = false // stopped, rebooted or crashed: it runs no more
        this.loading = this.load().catch(e => this.crashed(`the VM did not start: ${e.message}`))
    }

    async load() {
        const { image, stateDir, link, packetCostMs, flashBytes, deviceId, onConsole } = this.o
        const wasmBinary = vmBinary(packetCostMs ?? DEFAULT_PACKET_COST_MS)
        const print = (...args) => this.ended || onConsole(args.join(" "))
        const console = { log: print, info: print, warn: print, error: print, debug: print }
        // the VM's stock TCP socket (MQTT) is a Node socket: kept here, so that a reset or a crash
        // ends it as the chip's reset ends every connection
        const track = sock => (this.sockets.add(sock), sock.once("close", () => this.sockets.delete(sock)), sock)
        const req = name => {
            if (name !== "net" && name !== "tls") return require(name)
            const mod = require(name)
            return { ...mod, createConnection: (...a) => track(mod.createConnection(...a)), connect: (...a) => track(mod.connect(...a)) }
        }
        const inst = await loaded.factory(console, req)({
            wasmBinary,
            print,
            printErr: line => this.ended || /^program exited \(with status/.test(line) || onConsole(line),
            // the VM's exit(): ds.reboot() exits with 0; anything else is a fatal error of the VM
            quit: (status, toThrow) => {
                if (status === 0) this.rebooted()
                else this.crashed(`exit status ${status}`)
                throw toThrow
            },
            onAbort: what => {
                if (!this.ended) onConsole(`Aborted(${what})`)
                this.crashed(String(what))
            },
        })
        if (this.ended) return // stopped while it loaded
        this.inst = inst
        // a socket event calls into the VM outside its turns: a fault there is a crash of the VM too
        // (not an uncaught exception of the host), and a stopped VM hears nothing more
        const onSocketEvent = inst._jd_em_tcpsock_on_event
        inst._jd_em_tcpsock_on_event = (...args) => {
            if (this.ended) return
            try {
                onSocketEvent(...args)
            } catch (e) {
                this.crashed(e?.message ?? String(e))
            }
        }
        inst.dmesg = line => {
            const text = dmesgText(line)
            if (text !== null) print(text)
        }
        inst.log = print
        // every exception out of a VM turn stops the VM (the module's loop ends): a crash, unless
        // it is the exit of a reboot or of a crash already reported
        inst.error = e => this.ended || this.crashed(e?.message ?? String(e))
        const flashFile = path.join(stateDir, FLASH_FILE)
        fs.mkdirSync(path.dirname(flashFile), { recursive: true })
        inst.flashSize = flashBytes
        inst.flashLoad = () => {
            try {
                return new Uint8Array(fs.readFileSync(flashFile))
            } catch {
                return new Uint8Array(0)
            }
        }
        inst.flashSave = buf => fs.writeFileSync(flashFile, buf)
        inst.sendPacket = frame => link.fromVm(this, frame)
        link.attach(this)
        if (deviceId) inst.devsSetDeviceId(deviceId)
        inst.devsStart()
        const r = inst.devsDeploy(fs.readFileSync(image))
        if (r) {
            onConsole(`deploy error: ${r} (the image does not fit the flash, or is not a DeviceScript image)`)
            throw new Error(`deploy error ${r}`)
        }
    }

    /** A frame from the bus (the link calls it between turns). */
    receive(frame) {
        if (!this.ended) this.inst.handlePacket(frame)
    }

    halt() {
        this.ended = true
        this.o.link.detach(this)
        try {
            this.inst?.devsStop()
        } catch {}
        for (const sock of this.sockets) sock.destroy() // as a reset cuts them: no goodbye
        this.sockets.clear()
    }

    rebooted() {
        if (this.ended) return
        this.halt()
        setImmediate(() => this.o.onReboot?.())
    }

    crashed(why) {
        if (this.ended) return
        this.halt()
        setImmediate(() => this.o.onCrash?.(why))
    }

    /** The host stops it (reset, power off, host stopped): nothing is reported. */
    async kill() {
        this.ended = true
        await this.loading
        this.halt()
    }

    /** Key `p`: the VM aborts, as its C code does on a failed assertion; onCrash follows. */
    crash() {
        this.crashed("panic requested (key p)")
    }
}
