// The DeviceScript VM (WASM) of one dongle, as a child process (host/vm-child.cjs): it talks to the
// host's bus over the VM link (host/vm-link.mjs, its fd 3), runs the firmware image and keeps its
// flash (program and settings) in STATE/.devicescript/flash/sim.bin.
// Restarting this process is exactly what the EN button does to the chip.
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import fs from "node:fs"
import path from "node:path"
import readline from "node:readline"

const CHILD = fileURLToPath(new URL("./vm-child.cjs", import.meta.url))
const PRELOAD = fileURLToPath(new URL("./vm-preload.cjs", import.meta.url))
/** Extra Node flags for the VM process, e.g. "--cpu-prof" to profile it (it writes the profile when it exits by itself). */
const NODE_ARGS = (process.env.SMARTBMS_VM_NODE_ARGS ?? "").split(" ").filter(Boolean)
const NOISE = /^(using devs:|connected to |self-deployed |disconnect)/

/** The VM's flash: the ESP32-C3's fstor partition (devicescript-esp32: 64 pages of 4 KB). */
export const FLASH_BYTES = 256 * 1024
/** What `devs run` gave the VM before: a flash file of this size is kept at it (its settings stay). */
export const OLD_FLASH_BYTES = 128 * 1024
const FLASH_FILE = path.join(".devicescript", "flash", "sim.bin")

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

/**
 * @param {object} o
 * @param {string} o.image the firmware (.devs)
 * @param {string} o.stateDir flash lives here
 * @param {import('./vm-link.mjs').VmLink} o.link the host's end of the Jacdac link
 * @param {number} [o.packetCostMs] the VM's throttle per sent packet (default 1 ms; the chip's is 20)
 * @param {number} [o.flashBytes] the VM's flash (default: flashBytesFor(stateDir))
 * @param {string} o.deviceId 16 hex digits
 * @param {(line:string)=>void} o.onConsole one line of the dongle's console
 * @param {(code:number|null, signal:string|null)=>void} o.onExit
 * @param {()=>void} o.onReboot the program called ds.reboot(): the chip resets
 */
export function startVm({ image, stateDir, link, packetCostMs, flashBytes, deviceId, onConsole, onExit, onReboot }) {
    const child = spawn(
        process.execPath,
        [...NODE_ARGS, "-r", PRELOAD, CHILD, path.resolve(image), deviceId],
        { cwd: stateDir, env: { ...process.env, SMARTBMS_VM_FLASH_BYTES: String(flashBytes ?? flashBytesFor(stateDir)), ...(packetCostMs === undefined ? {} : { SMARTBMS_VM_PACKET_COST_MS: String(packetCostMs) }) }, stdio: ["ignore", "pipe", "pipe", "pipe"] },
    )
    link.attach(child.stdio[3])
    let exiting = false
    const onLine = line => {
        line = line.replace(/\x1B\[[0-9;]*m/g, "")
        // ds.reboot() ends the WASM program (emscripten's exit); on the ESP32 the chip resets
        if (/^program exited \(with status: \d+\)/.test(line)) {
            exiting = true
            vm.killedOnPurpose = true // what follows is the reboot, not a crash
            onReboot?.()
            return
        }
        if (exiting) return // emscripten's ExitStatus dump
        const m = /^(?:WASM|VM|DEV)> (.*)$/.exec(line)
        if (m) onConsole(m[1])
        else if (line.trim() && !NOISE.test(line)) onConsole(line)
    }
    const vm = {
        child,
        /** true once the host stopped it (reset, stop) or the firmware rebooted: its exit is no crash */
        killedOnPurpose: false,
        async kill() {
            vm.killedOnPurpose = true
            if (child.exitCode !== null || child.signalCode !== null) return
            const exited = new Promise(resolve => child.once("exit", resolve))
            child.kill("SIGKILL") // a reset or power loss gives the program no chance to tidy up
            await exited
        },
    }
    readline.createInterface({ input: child.stdout }).on("line", onLine)
    readline.createInterface({ input: child.stderr }).on("line", onLine)
    // "close", not "exit": every line the VM printed (its last words, "program exited") is read first
    child.on("close", (code, signal) => onExit?.(code, signal))
    return vm
}
