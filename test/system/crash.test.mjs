// A crash is a chip reset: the host restarts a VM that died by itself, the firmware learns why it
// booted (services/resetreason.md), journals the crash, and only a reset-button press (or power-on)
// advances the reset counter: a crash loop never ends in a factory reset.
import { test } from "node:test"
import assert from "node:assert/strict"
import { startTestDongle } from "./helpers.mjs"

const bootLines = d => d.lines.filter(l => /^Reset (reason|counter)/.test(l))

test("a crashed VM is restarted as the chip's panic reset would; the boot says why and the crash is journaled", async t => {
    const d = await startTestDongle(t)
    await d.waitForLine(/^Reset counter 1: normal start/, { timeoutMs: 20000 })
    assert.ok(d.lines.includes("Reset reason: power_on (power applied)"))
    await d.waitForLine(/^Journal: /)
    const since = d.mark()
    const crashed = new Promise(r => d.once("crash", r))
    d.crash()
    assert.match(await crashed, /^panic requested \(key p\): /) // and the VM's last lines
    assert.ok(d.hostMessages.some(m => /^the DeviceScript VM crashed \(panic requested \(key p\): .*\); restarting it in 1000 ms/.test(m)), d.hostMessages.join("\n"))
    await d.waitForLine("Reset reason: panic (VM crashed: panic requested (key p))", { since, timeoutMs: 20000 })
    await d.waitForLine("Reset counter: 0", { since }) // not a press
    await d.waitForLine("Reset counter 0: normal start", { since, timeoutMs: 20000 })
    await d.waitForLine(/^Journal \d+: restarted_after_crash since /, { since, timeoutMs: 20000 })
    await d.waitForLine(/^Journal \d+: restarted_after_crash cleared /, { since, timeoutMs: 20000 })
    await d.waitForLine(/^BMS link: ok/, { since, timeoutMs: 20000 })
})

test("a fault inside the VM (its memory overwritten: a WebAssembly trap) is a crash too; the host runtime never stays down", async t => {
    const d = await startTestDongle(t)
    await d.waitForLine(/^Reset counter 1: normal start/, { timeoutMs: 20000 })
    const since = d.mark()
    d.vm.inst.HEAPU8.fill(0xff, 65536) // what a wild write does: the VM's next turn faults
    await d.waitForLine(/^Reset reason: panic \(VM crashed: memory access out of bounds\)$/, { since, timeoutMs: 20000 })
    await d.waitForLine(/^BMS link: ok/, { since, timeoutMs: 20000 })
})

test("six crashes inside the reset windows keep every setting: no factory reset, the counter never moves", async t => {
    const d = await startTestDongle(t)
    await d.waitForLine(/^Reset counter 1: normal start/, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("wifi", { ssid: "host-network", pass: "correct horse" })
    await d.settleFlash()
    for (let i = 0; i < 6; i++) {
        const since = d.mark()
        await d.waitForLine(/^Reset counter: \d+$/, { since: i ? d.bootMark : 0, timeoutMs: 20000 })
        d.bootMark = since
        d.crash() // inside the window, like a crash loop at boot
        await d.waitForLine(/^Reset reason: panic/, { since, timeoutMs: 20000 })
    }
    await d.waitForLine(/^Reset counter 0: normal start/, { since: d.bootMark, timeoutMs: 20000 })
    await d.waitForLine('Wi-Fi: station mode, connected to "host-network", IP 127.0.0.1', { since: d.bootMark, timeoutMs: 20000 })
    assert.ok(!d.lines.some(l => /factory defaults|Factory reset/.test(l)), "no factory reset")
    assert.ok(!bootLines(d).some(l => /^Reset counter: [2-9]/.test(l)), bootLines(d).join("\n"))
})

test("the reset button still counts: three presses open the access point", async t => {
    const d = await startTestDongle(t)
    for (const n of [1, 2]) {
        await d.waitForLine(new RegExp(`^Reset counter: ${n}$`), { since: d.bootMark ?? 0, timeoutMs: 20000 })
        await d.settleFlash()
        d.bootMark = d.mark()
        await d.reset()
    }
    await d.waitForLine("Reset reason: power_on (reset button)", { since: d.bootMark, timeoutMs: 20000 })
    await d.waitForLine("Reset counter 3: access point mode (settings kept)", { since: d.bootMark, timeoutMs: 20000 })
})
