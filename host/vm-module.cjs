// The DeviceScript VM (WebAssembly) of the pinned @devicescript/cli, loaded for host/vm.mjs. The cli
// bundle holds the whole toolchain (TypeScript compiler, debugger, ...): loading it costs about 200 MB
// of memory, so only the VM's own module is taken out of it (read from node_modules once, never
// copied).
//
// One change to the VM, on the host only: DeviceScript throttles the packets a program sends to
// 20 ms each after a burst of five (jdiface.c, THROTTLE_COST_MS), so every awaited Jacdac command
// costs a 20 ms tick once traffic flows. On the host that throttle, not the work, made a Modbus
// request take 60 ms and a status page 250 ms (docs/host-runtime.md). SMARTBMS_VM_PACKET_COST_MS
// (default 1) sets the cost per packet; 20 is the chip's timing.
"use strict"
const fs = require("fs")
const path = require("path")
const vm = require("vm")

const CLI = require.resolve("@devicescript/cli/built/devicescript-cli.cjs")
const VM_MODULE = "var require_devicescript_vm = __commonJS("
const WASM_URI = /wasmBinaryFile = "data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)"/
const DEVICE_COST_MS = 20

/**
 * The VM out of the cli bundle: its WebAssembly binary and `factory(console)`, which evaluates the VM
 * module anew with `console` as the console its code prints to (the VM prints some lines, a program
 * panic's "PANIC 60004" for one, straight to `console.log`: each VM's lines go to its own dongle).
 * Call the module it returns with the emscripten options to start one VM. `req` is the `require` the
 * module gets (the VM opens its one TCP socket, the stock DeviceScript socket, with net or tls).
 */
function loadVm() {
    // a Buffer, not a string: only the VM module is decoded, and the 28 MB file is freed at once
    const file = fs.readFileSync(CLI)
    const start = file.indexOf(VM_MODULE)
    const end = start < 0 ? -1 : file.indexOf("\n});\n", start)
    const body = end < 0 ? "" : file.toString("utf8", start + VM_MODULE.length, end + 2) // { "runtime/devicescript-vm/...js"(exports, module2) { ... } }
    const wasm = WASM_URI.exec(body)
    if (!wasm) throw new Error(`the DeviceScript VM was not found in ${CLI} (not @devicescript/cli 2.16.4?)`)
    // the binary is handed to the VM (its wasmBinary option): the module's copy as base64 is left out
    const code = body.slice(0, wasm.index) + 'wasmBinaryFile = "data:application/octet-stream;base64,"' + body.slice(wasm.index + wasm[0].length)
    const wrapper = vm.runInThisContext(`(function (require, __filename, __dirname, console) { return (${code}) })`, { filename: CLI })
    const factory = (console, req = require) => {
        const modules = wrapper(req, CLI, path.dirname(CLI), console)
        const mod = { exports: {} }
        modules[Object.keys(modules)[0]](mod.exports, mod)
        return mod.exports
    }
    return { factory, wasmBinary: new Uint8Array(Buffer.from(wasm[1], "base64")) }
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

/**
 * Sets the longest the VM sleeps between two turns when nothing asks for sooner (jacdac-c's
 * jd_process_everything starts each turn with jd_max_sleep = 10000 us; a program timer, a service or
 * a packet lowers it). Returns false, changing nothing, when the code is not the expected one.
 */
function setIdleSleep(bytes, us) {
    const b = functionBodies(bytes).jd_process_everything
    if (!b || !(us >= 1000 && us < 1 << 20)) return false
    const code = Buffer.from(bytes.buffer, bytes.byteOffset + b.start, b.end - b.start)
    const cap = Buffer.from([0x41, 0x90, 0xce, 0x00, 0x36]) // i32.const 10000 (3-byte LEB128), i32.store
    const at = code.indexOf(cap)
    if (at < 0 || code.indexOf(cap, at + 1) >= 0) return false
    code[at + 1] = 0x80 | (us & 0x7f)
    code[at + 2] = 0x80 | ((us >> 7) & 0x7f)
    code[at + 3] = (us >> 14) & 0x3f // sign bit clear: positive
    return true
}

module.exports = { setIdleSleep, loadVm, setPacketCost, DEVICE_COST_MS, functionBodies }
