// The firmware's watchdog: a task that stops making progress (here the web server's accept loop,
// whose listening socket failed) is noticed within 35 s, journaled, and the dongle reboots itself with
// a software reboot that does not count as a press of the reset button.
import { test } from "node:test"
import assert from "node:assert/strict"
import { startTestDongle } from "./helpers.mjs"

test("a stalled web server is noticed, journaled, and the dongle reboots itself (not counted as a press)", async t => {
    const d = await startTestDongle(t)
    await d.waitForLine(/^Reset counter 1: normal start/, { timeoutMs: 20000 })
    await d.waitForPort(6789)
    await d.waitForLine(/^Journal: /)
    const since = d.mark()
    const failedAt = Date.now()
    assert.ok(d.sockets.failListener(6789))
    await d.waitForLine(/^web connection listener stopped: io_error/, { since })
    const noticed = await d.waitForLine(/^Watchdog: web server made no progress for \d+ s; rebooting$/, { since, timeoutMs: 45000 })
    const seconds = (Date.now() - failedAt) / 1000
    assert.ok(seconds <= 36, `noticed after ${seconds} s: ${noticed}`)
    await d.waitForLine(/^Journal \d+: watchdog_reboot since /, { since, timeoutMs: 5000 })
    await d.waitForLine("Reset reason: software (ds.reboot())", { since, timeoutMs: 20000 })
    await d.waitForLine("Reset counter: 0", { since })
    await d.waitForLine(/^Journal \d+: watchdog_reboot cleared /, { since, timeoutMs: 20000 })
    // and the web server is back
    const port = await d.waitForPort(6789, 20000)
    const r = await fetch(`http://127.0.0.1:${port}/api/status`)
    assert.equal(r.status, 200)
})
