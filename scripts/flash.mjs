#!/usr/bin/env node
// Flashing and recovery of a real dongle over USB (CH340):
//   image   [--runtime FILE]                 one complete image for 0x0: runtime, board, firmware
//   flash   --port PORT [--runtime FILE]     image, then esptool writes it at 0x0 (new dongle or update)
//   recover --port PORT [--runtime FILE]     hard flash: erase the whole chip, then write the image
// The runtime image comes from the devicescript-esp32 releases (needs the internet once; cached for
// 24 h in .devicescript/cache) or from --runtime FILE. Every failure is one line and exit code 2.
import { spawnSync } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { createRequire } from "node:module"

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..")
const cli = createRequire(import.meta.url).resolve("@devicescript/cli/built/devicescript-cli.cjs")
export const BOARD = "smartbms_dongle"
export const IMAGE = path.join(root, "built", "smartbms-dongle-full.bin")
const RUNTIME_NAME = "devicescript-esp32c3-esp32c3_bare-0x0.bin" // what devs bundle fetches for an esp32c3 board
const CACHE = path.join(root, ".devicescript", "cache")
const FLASH_BAUD = 460800

function fail(msg) {
    process.stderr.write(`smartbms-flash: ${msg}\n`)
    process.exit(2)
}

function parse(argv) {
    const [command, ...rest] = argv
    const o = { command }
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i]
        const value = () => rest[++i] ?? fail(`${a} needs a value`)
        if (a === "--port") o.port = value()
        else if (a === "--runtime") o.runtime = value()
        else if (a === "--baud") o.baud = Number(value())
        else fail(`unknown option ${a}`)
    }
    if (!["image", "flash", "recover"].includes(command)) fail(`usage: flash.mjs image|flash|recover [--port PORT] [--runtime FILE] [--baud N]`)
    if (command !== "image" && !o.port) fail("--port is required: the dongle's serial port, e.g. /dev/ttyUSB0, /dev/cu.wchusbserial110 or COM3")
    return o
}

function candidatePorts() {
    try {
        return fs.readdirSync("/dev").filter(n => /^(ttyUSB|ttyACM|cu\.wchusbserial|cu\.usbserial)/.test(n)).map(n => "/dev/" + n)
    } catch {
        return []
    }
}

function checkPort(port) {
    if (process.platform === "win32" || fs.existsSync(port)) return
    const found = candidatePorts()
    fail(`serial port ${port} not found; ${found.length ? "serial ports here: " + found.join(", ") : "no USB serial port is plugged in (CH340 driver missing? see docs/recovery.md)"}`)
}

/** The esptool command line, or a one-line reason why there is none. */
function findEsptool() {
    for (const cmd of [["esptool.py"], ["esptool"], ["python3", "-m", "esptool"], ["python", "-m", "esptool"]]) {
        const r = spawnSync(cmd[0], [...cmd.slice(1), "version"], { encoding: "utf8" })
        if (r.status === 0) return cmd
    }
    fail("esptool is not installed: install it with `pip install \"esptool>=4.5\"` (Python 3), then try again")
}

function buildImage(runtime) {
    const build = spawnSync(process.execPath, [path.join(root, "scripts", "build.mjs"), "--firmware-only"], { cwd: root, encoding: "utf8" })
    if (build.status !== 0) fail(`the firmware does not build:\n${build.stdout}${build.stderr}`)
    const cached = path.join(CACHE, RUNTIME_NAME)
    const saved = cached + ".saved"
    if (runtime) {
        if (!fs.existsSync(runtime)) fail(`runtime image ${runtime} not found`)
        fs.mkdirSync(CACHE, { recursive: true })
        if (fs.existsSync(cached)) fs.renameSync(cached, saved)
        fs.copyFileSync(runtime, cached) // devs bundle takes a fresh cached runtime instead of downloading
    }
    fs.mkdirSync(path.dirname(IMAGE), { recursive: true })
    fs.rmSync(IMAGE, { force: true })
    const r = spawnSync(process.execPath, [cli, "--no-colors", "bundle", "--board", BOARD, "src/main.ts", "--flash-file", IMAGE], {
        cwd: root, encoding: "utf8", timeout: 180000,
    })
    if (runtime) {
        // the given runtime must not stay in the cache for a later download-less flash
        fs.rmSync(cached, { force: true })
        if (fs.existsSync(saved)) fs.renameSync(saved, cached)
    }
    const out = `${r.stdout}\n${r.stderr}`
    if (/ENOTFOUND|EAI_AGAIN|getaddrinfo|ECONNREFUSED|ETIMEDOUT|fetch failed/.test(out))
        fail(`cannot download the DeviceScript runtime for the ESP32-C3 (${RUNTIME_NAME}) from GitHub: no internet connection? Connect once (it is cached for 24 h) or pass --runtime FILE`)
    if (/EADDRINUSE/.test(out)) fail("ports 8081-8083 are in use (is `devs devtools` running?); stop it and try again")
    if (r.status !== 0 || !fs.existsSync(IMAGE)) {
        const last = out.split("\n").map(l => l.trim()).filter(l => l && !l.startsWith("at ")).pop()
        fail(`devs bundle failed: ${last ?? "no output"}`)
    }
    console.log(`image ${path.relative(root, IMAGE)}: ${fs.statSync(IMAGE).size} bytes (runtime, board ${BOARD}, firmware, settings) for 0x0`)
}

function esptool(cmd, args) {
    console.log(`${cmd.join(" ")} ${args.join(" ")}`)
    const r = spawnSync(cmd[0], [...cmd.slice(1), ...args], { stdio: "inherit" })
    if (r.status !== 0)
        fail(`esptool failed (exit ${r.status}): hold BOOT while plugging the dongle in to enter the bootloader, check the cable and the port, see docs/recovery.md`)
}

const o = parse(process.argv.slice(2))
if (o.command === "image") {
    buildImage(o.runtime)
} else {
    checkPort(o.port)
    const tool = findEsptool()
    buildImage(o.runtime)
    const common = ["--chip", "esp32c3", "--port", o.port, "--baud", String(o.baud || FLASH_BAUD)]
    if (o.command === "recover") esptool(tool, [...common, "erase_flash"])
    esptool(tool, [...common, "write_flash", "0x0", IMAGE])
    console.log("done: press reset (EN) or unplug and plug in; watch the console at 115200 baud (docs/recovery.md)")
}
