// The flashing and recovery script: images are built without the internet from a given runtime, and
// everything that needs the network or hardware fails with one clear line, never a stack trace.
import { test } from "node:test"
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { PROJECT_DIR } from "../../host/dongle.mjs"
import { tempDir } from "./helpers.mjs"

const SCRIPT = path.join(PROJECT_DIR, "scripts", "flash.mjs")
const IMAGE = path.join(PROJECT_DIR, "built", "smartbms-dongle-full.bin")

function run(args, timeoutMs = 180000) {
    return new Promise(resolve => {
        const child = spawn(process.execPath, [SCRIPT, ...args], { cwd: PROJECT_DIR, stdio: ["ignore", "pipe", "pipe"] })
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", d => (stdout += d))
        child.stderr.on("data", d => (stderr += d))
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
        child.on("close", code => (clearTimeout(timer), resolve({ code, stdout, stderr })))
    })
}

function oneLine(r, re) {
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr)
    assert.match(r.stderr, re)
    assert.doesNotMatch(r.stderr, /\n\s+at /)
}

test("flash needs a port, and a port that exists", async () => {
    oneLine(await run(["flash"]), /^smartbms-flash: --port is required/)
    oneLine(await run(["recover", "--port", "/dev/ttyNOPE0"]), /^smartbms-flash: serial port \/dev\/ttyNOPE0 not found; /)
})

test("without esptool the script says how to install it", { skip: fs.existsSync("/usr/bin/esptool.py") && "esptool is installed here" }, async () => {
    oneLine(await run(["flash", "--port", "/dev/null"]), /esptool is not installed: install it with `pip install "esptool>=4\.5"`/)
})

test("image: without the internet, a clear message; a missing runtime file is named", async () => {
    const r = await run(["image"])
    if (r.code === 0) assert.ok(fs.existsSync(IMAGE), "with the internet the image is built")
    else oneLine(r, /cannot download the DeviceScript runtime for the ESP32-C3 .* from GitHub: no internet connection\?/)
    oneLine(await run(["image", "--runtime", "/nope/runtime.bin"]), /runtime image \/nope\/runtime\.bin not found/)
})

test("image with a given runtime: one 0x0 image holding the board configuration and the firmware", async t => {
    const dir = tempDir(t)
    const runtime = path.join(dir, "runtime.bin")
    fs.writeFileSync(runtime, Buffer.alloc(1024 * 1024, 0xff)) // a stand-in for the downloaded runtime
    const cached = path.join(PROJECT_DIR, ".devicescript", "cache", "devicescript-esp32c3-esp32c3_bare-0x0.bin")
    const cacheBefore = fs.existsSync(cached) ? fs.readFileSync(cached) : null
    const r = await run(["image", "--runtime", runtime])
    assert.equal(r.code, 0, r.stderr)
    const image = fs.readFileSync(IMAGE)
    const program = fs.readFileSync(path.join(PROJECT_DIR, "built", "firmware.devs"))
    assert.ok(image.indexOf(program.subarray(0, 256)) > 0, "the firmware is in the image")
    assert.ok(image.indexOf("Smart BMS Wi-Fi Dongle") > 0, "the board configuration is in the image")
    const cacheAfter = fs.existsSync(cached) ? fs.readFileSync(cached) : null
    assert.deepEqual(cacheAfter, cacheBefore, "the download cache is as it was: the stand-in did not stay in it")
})
