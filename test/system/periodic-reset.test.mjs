// Periodic reset with a controllable clock: only on the chosen days, at most the maximum a day,
// never within an hour; the counts survive the reset they cause.
import { test } from "node:test"
import assert from "node:assert/strict"
import { startTestDongle, sleep } from "./helpers.mjs"

async function status(d) {
    const port = await d.waitForPort(6789)
    return (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()).periodic_reset
}

test("resets at the time of day on a chosen day, at most twice, an hour apart; counts survive", async t => {
    // Saturday 2026-11-21, 02:59:50 (host time)
    const start = new Date(2026, 10, 21, 2, 59, 50)
    const d = await startTestDongle(t, { clockAt: start })
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("preset", { on: true, max: 2, days: 1 << 5, time: "03:00" })
    await d.settleFlash()
    let since = d.mark()
    await d.reset()
    await d.waitForLine(/^Periodic reset: at 03:00, days 0x20, at most 2 a day/, { since, timeoutMs: 25000 })
    await d.waitForLine(/^Periodic reset: rebooting \(1 today, at 2026-11-21T03:00:\d\d\)$/, { since, timeoutMs: 30000 })
    since = d.mark()
    await d.waitForLine("Reset reason: software (ds.reboot())", { since, timeoutMs: 30000 }) // it rebooted by itself
    await d.waitForLine(/^Reset counter 0: normal start/, { since, timeoutMs: 30000 }) // a software reboot is no press
    await d.waitForLine(/^Web: port 6789/, { since, timeoutMs: 25000 })
    let st = await status(d)
    assert.equal(st.resets_today, 1)
    assert.match(st.last_reset, /^2026-11-21T03:00:\d\d$/)
    // within the hour: no second reset
    await sleep(12000)
    assert.ok(!d.linesSince(since).some(l => l.startsWith("Periodic reset: rebooting")), "not twice within an hour")
    // an hour later: the second and last of the day
    d.clock.setTime(new Date(2026, 10, 21, 4, 1, 0))
    await d.waitForLine(/^Periodic reset: rebooting \(2 today, at 2026-11-21T04:01:\d\d\)$/, { since, timeoutMs: 20000 })
    since = d.mark()
    await d.waitForLine(/^Web: port 6789/, { since, timeoutMs: 40000 })
    d.clock.setTime(new Date(2026, 10, 21, 6, 0, 0))
    await sleep(12000)
    assert.ok(!d.linesSince(since).some(l => l.startsWith("Periodic reset: rebooting")), "at most 2 a day")
    st = await status(d)
    assert.equal(st.resets_today, 2)
    // Sunday is not a chosen day
    d.clock.setTime(new Date(2026, 10, 22, 3, 30, 0))
    await sleep(12000)
    assert.ok(!d.linesSince(since).some(l => l.startsWith("Periodic reset: rebooting")), "not on Sunday")
})
