// The reset button restarts the firmware exactly like EN: a new VM starts, the flash (program
// and settings) survives, the BMS keeps its state.
import { test } from "node:test"
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import os from "node:os"
import path from "node:path"
import { startTestDongle, tempDir, stopBeforeRemoval, CLI, sleep } from "./helpers.mjs"

test("pressing reset restarts the firmware with its settings intact", async t => {
    const d = await startTestDongle(t)
    await d.waitForLine(/^Reset counter 1: normal start/, { timeoutMs: 20000 })
    const id = await d.waitForLine(/^Device id:/)
    await d.writeFirmwareSetting("user", { serial: "PACK-0042" })
    await d.settleFlash()
    const vm = d.vm
    const since = d.mark()
    await d.reset()
    assert.notEqual(d.vm, vm, "a new VM")
    assert.ok(vm.ended, "the old VM runs no more")
    assert.equal(await d.waitForLine(/^Device id:/, { since, timeoutMs: 20000 }), id)
    await d.waitForLine(/^BMS link: ok/, { since, timeoutMs: 20000 }) // and it talks to the BMS again
    assert.deepEqual(JSON.parse((await d.readFirmwareSetting("user")).toString()), { serial: "PACK-0042" })
    assert.ok(!d.linesSince(since).some(l => l.startsWith("settings:")), "no setting fell back to its default")
})

test("the flash survives stopping and starting the host runtime", async t => {
    const dir = tempDir(t)
    const first = await startTestDongle(t, { dir })
    await first.waitForLine(/^Reset counter 1: normal start/, { timeoutMs: 20000 })
    await first.writeFirmwareSetting("wifi", { ssid: "host-network", pass: "correct horse" })
    await first.settleFlash()
    await first.stop()
    const second = await startTestDongle(t, { dir })
    await second.waitForLine('Wi-Fi: station mode, connected to "host-network", IP 127.0.0.1', { timeoutMs: 30000 })
})

test("SIGUSR2 presses the reset button of the command-line host", async t => {
    const dir = tempDir(t)
    const child = spawn(process.execPath, [CLI, "--state", path.join(dir, "state"), "--sd", path.join(dir, "sd")], {
        cwd: os.tmpdir(),
        stdio: ["ignore", "pipe", "pipe"],
    })
    const ended = new Promise(r => child.once("close", r))
    stopBeforeRemoval(t, () => (child.kill("SIGKILL"), ended)) // the host and its VM write in the folder
    let out = ""
    child.stdout.on("data", d => (out += d))
    const until = async (re, ms = 20000) => {
        const deadline = Date.now() + ms
        while (!re.test(out)) {
            if (Date.now() > deadline) assert.fail(`no ${re} in console output:\n${out}`)
            await sleep(50)
        }
    }
    await until(/Reset counter 1: normal start\n/)
    await sleep(1500) // the cleared counter reaches the flash file
    child.kill("SIGUSR2")
    await until(/Reset counter 1: normal start\n[^]*Reset counter 1: normal start\n/)
    assert.equal(out.match(/^Device id: /gm).length, 2, "two boots")
    // stdout is the dongle's console only: one message per line, no host chatter
    for (const line of out.trim().split("\n")) assert.doesNotMatch(line, /^\[host\]|tcp: /)
    child.kill("SIGTERM")
    const code = await new Promise(r => child.on("close", r))
    assert.equal(code, 0)
})
