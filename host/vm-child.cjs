// The DeviceScript VM process of one dongle: `node -r host/vm-preload.cjs host/vm-child.cjs IMAGE
// DEVICE_ID`, started by host/vm.mjs with the state folder as its working directory.
//
// It does what `devs run IMAGE --tcp` does, and nothing else: the WASM VM of the pinned
// @devicescript/cli talks to the host's bus over the VM link (file descriptor 3, host/vm-link.mjs), keeps its flash in
// .devicescript/flash/sim.bin, deploys the image and prints the VM's console. The cli bundle holds the
// whole toolchain (TypeScript compiler, debugger, ...): loading it costs about 200 MB of memory, so
// only the VM's own module is taken out of it (read from node_modules at start, never copied).
//
// One change to the VM, on the host only: DeviceScript throttles the packets a program sends to
// 20 ms each after a burst of five (jdiface.c, THROTTLE_COST_MS), so every awaited Jacdac command
// costs a 20 ms tick once traffic flows. On the host that throttle, not the work, made a Modbus
// request take 60 ms and a status page 250 ms (docs/host-runtime.md). SMARTBMS_VM_PACKET_COST_MS
// (default 1) sets the cost per packet; 20 is the chip's timing.
"use strict"
const fs = require("fs")
const path = require("path")
const net = require("net")
const vm = require("vm")
const { frameReader, frameWriter } = require("./frames.cjs")

const CLI = require.resolve("@devicescript/cli/built/devicescript-cli.cjs")
const VM_MODULE = "var require_devicescript_vm = __commonJS("
const WASM_URI = /wasmBinaryFile = "data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)"/
const FLASH_FILE = path.join(".devicescript", "flash", "sim.bin")
const DEVICE_COST_MS = 20
/** The flash of the VM: 256 KB, the ESP32-C3's fstor partition (host/vm.mjs decides, see flashBytesFor). */
const FLASH_BYTES = Number(process.env.SMARTBMS_VM_FLASH_BYTES ?? 256 * 1024)
const LINK_FD = 3

/** The VM module's factory and its WebAssembly binary, out of the cli bundle. */
function loadVm() {
    // a Buffer, not a string: only the VM module is decoded, and the 28 MB file is freed at once
    const file = fs.readFileSync(CLI)
    const start = file.indexOf(VM_MODULE)
    const end = start < 0 ? -1 : file.indexOf("\n});\n", start)
    const body = end < 0 ? "" : file.toString("utf8", start + VM_MODULE.length, end + 2) // { "runtime/devicescript-vm/...js"(exports, module2) { ... } }
    const wasm = WASM_URI.exec(body)
    if (!wasm) throw new Error(`the DeviceScript VM was not found in ${CLI} (not @devicescript/cli 2.16.4?)`)
    const wrapper = vm.runInThisContext(`(function (require, __filename, __dirname) { return (${body}) })`, { filename: CLI })
    const modules = wrapper(require, CLI, path.dirname(CLI))
    const mod = { exports: {} }
    modules[Object.keys(modules)[0]](mod.exports, mod)
    return { factory: mod.exports, wasmBinary: new Uint8Array(Buffer.from(wasm[1], "base64")) }
}

/** Reads an unsigned LEB128 at `at.p`, moving it on. */
function uleb(bytes, at) {
    let r = 0
    let shift = 0
    let b
    do {
        b = bytes[at.p++]
        r += (b & 0x7f) * 2 ** shift
        shift += 7
    } while (b & 0x80)
    return r
}

/** {name: {start, end}} of the binary's function bodies, from its name section. */
function functionBodies(bytes) {
    const sections = []
    const at = { p: 8 }
    while (at.p < bytes.length) {
        const id = bytes[at.p++]
        const size = uleb(bytes, at)
        sections.push({ id, start: at.p, end: at.p + size })
        at.p += size
    }
    let imported = 0
    const imports = sections.find(s => s.id === 2)
    if (imports) {
        at.p = imports.start
        for (let n = uleb(bytes, at); n > 0; n--) {
            for (let name = 0; name < 2; name++) {
                const len = uleb(bytes, at) // module, then field
                at.p += len
            }
            const kind = bytes[at.p++]
            if (kind === 0) (uleb(bytes, at), imported++)
            else if (kind === 1) (at.p++, (bytes[at.p++] & 1 ? (uleb(bytes, at), uleb(bytes, at)) : uleb(bytes, at)))
            else if (kind === 2) (bytes[at.p++] & 1 ? (uleb(bytes, at), uleb(bytes, at)) : uleb(bytes, at))
            else at.p += 2 // global: type, mutability
        }
    }
    const names = new Map()
    for (const s of sections.filter(s => s.id === 0)) {
        at.p = s.start
        const len = uleb(bytes, at)
        if (Buffer.from(bytes.subarray(at.p, at.p + len)).toString() !== "name") continue
        at.p += len
        while (at.p < s.end) {
            const sub = bytes[at.p++]
            const size = uleb(bytes, at)
            const next = at.p + size
            if (sub === 1)
                for (let n = uleb(bytes, at); n > 0; n--) {
                    const index = uleb(bytes, at)
                    const l = uleb(bytes, at)
                    names.set(index, Buffer.from(bytes.subarray(at.p, at.p + l)).toString())
                    at.p += l
                }
            at.p = next
        }
    }
    const bodies = {}
    const code = sections.find(s => s.id === 10)
    if (!code) return bodies
    at.p = code.start
    const count = uleb(bytes, at)
    for (let i = 0; i < count; i++) {
        const size = uleb(bytes, at)
        const name = names.get(i + imported)
        if (name) bodies[name] = { start: at.p, end: at.p + size }
        at.p += size
    }
    return bodies
}

/**
 * Sets the VM's cost per sent packet (THROTTLE_COST_MS) in both functions that send one. In each,
 * the throttle is `past = now - 5 * 20` (i32.const -100, i32.add) and later `throttle += 20`
 * (i32.const 20, i32.add). Returns false, changing nothing, when the code is not the expected one.
 */
function setPacketCost(bytes, costMs) {
    const bodies = functionBodies(bytes)
    const sites = []
    for (const fn of ["devs_jd_send_cmd", "devs_jd_send_raw"]) {
        const b = bodies[fn]
        if (!b) return false
        const code = Buffer.from(bytes.buffer, bytes.byteOffset + b.start, b.end - b.start)
        const window = code.indexOf(Buffer.from([0x41, 0x9c, 0x7f, 0x6a]))
        const cost = window < 0 ? -1 : code.indexOf(Buffer.from([0x41, DEVICE_COST_MS, 0x6a]), window)
        if (cost < 0 || code.indexOf(Buffer.from([0x41, DEVICE_COST_MS, 0x6a]), cost + 1) >= 0) return false
        sites.push(b.start + cost + 1)
    }
    for (const s of sites) bytes[s] = costMs
    return true
}

/** The console of the VM as `devs run` prints it: lines with a marker, after "WASM> ". */
function dmesg(line) {
    const m = /^\s*([*!?>#]) (.*)/.exec(line)
    if (!m) return
    let text = m[2]
    if (m[1] === "#") {
        const sp = text.indexOf(" ")
        text = sp < 0 ? text : `${text.slice(0, sp)}ms ${text.slice(sp + 1)}`
    }
    process.stdout.write(`WASM> ${text}\n`)
}

/**
 * The VM's end of the link: frames from the host go into the VM at once (it runs a turn for each),
 * frames the VM sends in one turn leave in one write. The host gone, the VM process ends.
 */
function connectLink(inst) {
    const sock = new net.Socket({ fd: LINK_FD, readable: true, writable: true })
    const write = frameWriter(sock)
    inst.sendPacket = frame => write(frame)
    sock.on("data", frameReader(frame => inst.handlePacket(new Uint8Array(frame))))
    sock.on("error", () => {})
    sock.on("close", () => process.exit(0))
}

async function main() {
    const [image, deviceId] = process.argv.slice(2)
    const cost = Number(process.env.SMARTBMS_VM_PACKET_COST_MS ?? 1)
    if (!image) throw new Error("usage: node vm-child.cjs IMAGE [DEVICE_ID] (the Jacdac link on fd 3)")
    if (!(Number.isInteger(cost) && cost >= 0 && cost <= 63)) throw new Error(`SMARTBMS_VM_PACKET_COST_MS must be 0..63, not ${process.env.SMARTBMS_VM_PACKET_COST_MS}`)
    const program = fs.readFileSync(image)
    const { factory, wasmBinary } = loadVm()
    if (cost !== DEVICE_COST_MS && !setPacketCost(wasmBinary, cost))
        process.stderr.write(`the VM's packet throttle was not found: running with the chip's ${DEVICE_COST_MS} ms per packet\n`)
    const inst = await factory({ wasmBinary })
    inst.dmesg = dmesg
    connectLink(inst)
    fs.mkdirSync(path.dirname(FLASH_FILE), { recursive: true })
    inst.flashSize = FLASH_BYTES
    inst.flashLoad = () => {
        try {
            return new Uint8Array(fs.readFileSync(FLASH_FILE))
        } catch {
            return new Uint8Array(0)
        }
    }
    inst.flashSave = buf => fs.writeFileSync(FLASH_FILE, buf)
    if (deviceId) inst.devsSetDeviceId(deviceId)
    inst.devsStart()
    const r = inst.devsDeploy(program)
    if (r) throw new Error(`deploy error: ${r}`)
}

main().catch(e => {
    process.stderr.write(`${e.message}\n`)
    process.exit(2)
})
