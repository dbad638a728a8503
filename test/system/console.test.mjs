// A quiet console: one line per state change. With MQTT publishing every second the console carries
// no library traces; the host renders the status LED once per change of pattern, never per blink.
import { test } from "node:test"
import assert from "node:assert/strict"
import net from "node:net"
import { Aedes } from "aedes"
import { describeLed } from "../../host/services/status-led.mjs"
import { startTestDongle, sleep } from "./helpers.mjs"

/** The toggles of an LED pattern (on/off durations in ms, repeated) over `ms`, with a timer's jitter. */
function toggles(steps, ms, jitter = 15) {
    const t = []
    let at = 0
    for (let i = 0; at < ms; i++) {
        t.push({ at, on: i % 2 === 0 })
        at += steps[i % steps.length] + (((i * 7919) % 11) - 5) * (jitter / 10)
    }
    return t
}

test("the LED's patterns are recognised from its toggles, the same at any moment", () => {
    const patterns = {
        "LED blinking 10 Hz": [50, 50], "LED blinking 0.5 Hz": [1000, 1000], "LED blinking 2 Hz": [250, 250],
        "LED 2 short blinks every 3 s": [150, 250, 150, 2450], "LED 3 short blinks every 3 s": [150, 250, 150, 250, 150, 2050],
        "LED 1 short blink every 3 s": [150, 2850],
    }
    for (const [want, steps] of Object.entries(patterns)) {
        const t = toggles(steps, 30000)
        for (let k = 0; k < 40; k++) {
            const now = 12000 + k * 373 // any moment, mid-blink or not
            const seen = t.filter(x => x.at <= now)
            assert.equal(describeLed(seen, seen.at(-1).on, now), want, `${want} at ${now} ms`)
        }
    }
    assert.equal(describeLed([{ at: 0, on: true }], true, 10000), "LED on")
})

test("MQTT every second, 25 s: no library traces on the console; the LED rendered once per pattern", async t => {
    const aedes = Aedes.createBroker ? await Aedes.createBroker() : new Aedes()
    const server = net.createServer(aedes.handle)
    await new Promise(r => server.listen(0, "127.0.0.1", r))
    t.after(() => (server.close(), aedes.close()))
    const rendered = []
    const d = await startTestDongle(t, { renderLed: line => rendered.push(line) })
    await d.waitForLine(/^Reset counter 1/, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("mqtt", { on: true, host: "127.0.0.1", port: server.address().port, period: 1 })
    await d.settleFlash()
    const since = d.mark()
    await d.reset()
    await d.waitForLine(/^MQTT: connected/, { since, timeoutMs: 25000 })
    const from = rendered.length
    await sleep(25000)
    const lines = d.linesSince(since)
    assert.ok(!lines.some(l => /^mqtt: |^mqtt:/.test(l)), lines.filter(l => /^mqtt:/.test(l)).slice(0, 3).join("\n"))
    assert.ok(lines.length < 60, `${lines.length} console lines in about 35 s:\n${lines.join("\n")}`)
    assert.ok(rendered.length - from <= 1, `LED rendered ${rendered.length - from} times while its pattern stayed: ${rendered.slice(from).join(", ")}`)
})
