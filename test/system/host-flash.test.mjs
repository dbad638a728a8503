// The VM's flash is the chip's: 256 KB (the ESP32-C3's fstor partition), where `devs run` gave 128 KB
// and capped the firmware image at about 110 KB. A state folder whose flash file was made at 128 KB
// keeps it, and its settings (docs/host-runtime.md).
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { FIXTURES, startTestDongle, tempDir } from "./helpers.mjs"

const BIG = path.join(FIXTURES, "big-image.devs")
const simBin = dir => path.join(dir, "state", ".devicescript", "flash", "sim.bin")
/** The flash size in the flash store's header (jd_fstor: page size at 12, total pages at 16). */
const flashSize = dir => {
    const b = fs.readFileSync(simBin(dir))
    return b.readUInt32LE(12) * b.readUInt16LE(16)
}

test("an image over 111 KB deploys and boots on the 256 KB flash (it does not fit 128 KB)", async t => {
    assert.ok(fs.statSync(BIG).size > 111 * 1024, "the fixture is over 111 KB")
    const d = await startTestDongle(t, { firmware: BIG })
    await d.waitForLine(/^Reset counter \d+: normal start/, { timeoutMs: 25000 })
    await d.settleFlash() // the VM writes its flash file a second after a change
    assert.equal(flashSize(d.dir), 256 * 1024)
    assert.ok(!d.linesSince(0).some(l => /deploy error/.test(l)))

    const small = await startTestDongle(t, { firmware: BIG, vmFlashBytes: 128 * 1024 })
    await small.waitForLine(/deploy error|abort\(\)/, { timeoutMs: 25000 }) // the image does not fit
})

test("a state made with the older 128 KB flash boots with its settings kept, and says why it stays 128 KB", async t => {
    const dir = tempDir(t)
    const old = await startTestDongle(t, { dir, vmFlashBytes: 128 * 1024 })
    await old.waitForLine(/^Reset counter \d+: normal start/, { timeoutMs: 25000 })
    await old.writeFirmwareSetting("user", { location: "garage shelf" })
    await old.settleFlash()
    await old.stop()
    assert.equal(flashSize(dir), 128 * 1024)

    const d = await startTestDongle(t, { dir })
    await d.waitForLine(/^Reset counter \d+: normal start/, { timeoutMs: 25000 })
    assert.deepEqual(JSON.parse((await d.readFirmwareSetting("user")).toString()), { location: "garage shelf" })
    assert.ok(d.hostMessages.some(m => /128 KB flash of an older host runtime: kept, with its settings/.test(m)), d.hostMessages.join("\n"))
    assert.equal(flashSize(dir), 128 * 1024)
})
