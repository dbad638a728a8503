// Boot, reset counter, LED and Wi-Fi modes, on the host runtime: the reset button is pressed the way
// a user does it, during the window the LED flashes in.
import { test } from "node:test"
import assert from "node:assert/strict"
import { startTestDongle } from "./helpers.mjs"

/** Waits for boot number `n` of the counter, then presses reset inside its window. */
async function pressInWindow(d, n) {
    await d.waitForLine(new RegExp(`^Reset counter: ${n}$`), { since: d.bootMark ?? 0, timeoutMs: 20000 })
    await d.settleFlash() // the counter is on flash (host VM commits about 1 s after a write)
    d.bootMark = d.mark()
    await d.reset()
}

function ledSequence(d, since = 0) {
    return d.linesSince(since).filter(l => l.startsWith("LED: ")).map(l => l.slice(5))
}

async function configureStation(d, ssid = "host-network") {
    await d.waitForLine(/^Reset counter 1: /, { timeoutMs: 20000 })
    await d.writeFirmwareSetting("wifi", { ssid, pass: "correct horse" })
    await d.settleFlash()
}

test("first boot: banner, counter, window, then the access point of a dongle without a network", async t => {
    const d = await startTestDongle(t)
    const ap = await d.waitForLine(/^Wi-Fi: access point mode/, { timeoutMs: 20000 })
    const id = (await d.waitForLine(/^Device id: /)).slice(11)
    const banner = /^smartbms-dongle \d+\.\d+\.\d+\nDevice id: [0-9a-f]{16}\nBoard: .+\nSetup access point: (SmartBMS-[0-9A-F]{4}), WPA2 password ([a-z0-9]{10})\nReset reason: power_on \(power applied\)\nReset counter: 1$/m.exec(d.lines.join("\n"))
    assert.ok(banner, d.lines.join("\n"))
    const [, ssid, password] = banner
    assert.equal(ap, `Wi-Fi: access point mode, SSID ${ssid}, WPA2 password ${password}, IP 127.0.0.1`)
    assert.equal(ssid, `SmartBMS-${id.slice(-4).toUpperCase()}`)
    // the password is random: nothing the dongle publishes (its id) tells it
    assert.ok(!id.includes(password.slice(0, 4)), `password ${password} from id ${id}`)
    await d.waitForLine("Web: http://127.0.0.1:6789/ (http://smartbms.local:6789/)")
    await d.waitForLine("LED: ap_mode") // printed right after, maybe in the next chunk of output
    assert.ok(d.lines.includes("Reset counter 1: normal start"))
    assert.deepEqual(ledSequence(d), ["reset_window", "ap_mode"])
    assert.equal(d.accessPoint.apSsid.values()[0], `SmartBMS-${id.slice(-4).toUpperCase()}`)
    assert.equal((await d.readFirmwareSetting("resetCount")).toString(), "0", "the window closed: the counter is clear")
})

test("station mode with the configured network; settings survive the reset; LED reset window → connecting → normal", async t => {
    const d = await startTestDongle(t)
    await configureStation(d)
    const since = d.mark()
    await d.reset()
    await d.waitForLine('Wi-Fi: station mode, connected to "host-network", IP 127.0.0.1', { since, timeoutMs: 20000 })
    await d.waitForLine("LED: normal", { since })
    assert.deepEqual(ledSequence(d, since), ["reset_window", "connecting", "normal"])
    assert.equal(d.accessPoint.hostname.values()[0], "smartbms")
    assert.equal(d.accessPoint.apSsid.values()[0], "", "no access point")
})

test("a configured network out of reach is retried with backoff, without opening the access point", async t => {
    const d = await startTestDongle(t)
    await configureStation(d, "elsewhere")
    const since = d.mark()
    await d.reset()
    await d.waitForLine('Wi-Fi: "elsewhere" not reachable; next try in 5 s', { since, timeoutMs: 40000 })
    await d.waitForLine('Wi-Fi: "elsewhere" not reachable; next try in 10 s', { since, timeoutMs: 40000 })
    assert.equal(d.accessPoint.apSsid.values()[0], "")
    assert.deepEqual(ledSequence(d, since), ["reset_window", "connecting"])
    // the network comes into range: the next try joins it
    d.wifi.setInRange("elsewhere", true)
    await d.waitForLine('Wi-Fi: station mode, connected to "elsewhere", IP 127.0.0.1', { since, timeoutMs: 30000 })
})

test("three presses in successive windows: access point mode, settings kept", async t => {
    const d = await startTestDongle(t)
    await configureStation(d)
    d.bootMark = d.mark()
    await d.reset() // counter 1 (the previous window had closed)
    await pressInWindow(d, 1)
    await pressInWindow(d, 2)
    await d.waitForLine("Reset counter: 3", { since: d.bootMark, timeoutMs: 20000 })
    await d.waitForLine("Reset counter 3: access point mode (settings kept)", { since: d.bootMark, timeoutMs: 20000 })
    await d.waitForLine(/^Wi-Fi: access point mode, SSID SmartBMS-/, { since: d.bootMark })
    assert.deepEqual(JSON.parse((await d.readFirmwareSetting("wifi")).toString()), { ssid: "host-network", pass: "correct horse" })
    assert.equal((await d.readFirmwareSetting("resetCount")).toString(), "0")
    assert.deepEqual(ledSequence(d, d.bootMark), ["reset_window", "ap_mode"])
})

test("six presses: factory defaults, then access point mode", async t => {
    const d = await startTestDongle(t)
    await configureStation(d)
    await d.writeFirmwareSetting("admin", { pass: "hunter2hunter2" })
    await d.settleFlash()
    d.bootMark = d.mark()
    await d.reset()
    for (let n = 1; n <= 5; n++) await pressInWindow(d, n)
    const since = d.bootMark
    await d.waitForLine("Reset counter: 6", { since, timeoutMs: 20000 })
    await d.waitForLine("Reset counter 6: restoring factory defaults, then access point mode", { since, timeoutMs: 20000 })
    await d.waitForLine("Factory reset: done", { since })
    await d.waitForLine("Wi-Fi: no network configured", { since })
    const ap = await d.waitForLine(/^Wi-Fi: access point mode/, { since })
    // the access point's password is the device's own (like a label): a factory reset keeps it
    const firstPassword = /WPA2 password (\w+)/.exec(d.lines.find(l => l.startsWith("Setup access point: ")))[1]
    assert.match(ap, new RegExp(`WPA2 password ${firstPassword},`))
    assert.equal((await d.readFirmwareSetting("wifi")).length, 0)
    assert.equal((await d.readFirmwareSetting("admin")).length, 0)
    assert.deepEqual(ledSequence(d, since), ["reset_window", "factory_reset", "reset_window", "ap_mode"])
    // and the next boot is a normal first boot
    await d.settleFlash()
    const again = d.mark()
    await d.reset()
    await d.waitForLine("Reset counter 1: normal start", { since: again, timeoutMs: 20000 })
})

test("a press after the window closed starts a new count", async t => {
    const d = await startTestDongle(t)
    await d.waitForLine("Reset counter 1: normal start", { timeoutMs: 20000 })
    await d.settleFlash()
    const since = d.mark()
    await d.reset()
    await d.waitForLine("Reset counter: 1", { since, timeoutMs: 20000 })
    await d.waitForLine("Reset counter 1: normal start", { since, timeoutMs: 20000 })
})

test("LED for a BMS that stops answering, and back", async t => {
    const d = await startTestDongle(t)
    await configureStation(d)
    const since = d.mark()
    await d.reset()
    await d.waitForLine("LED: normal", { since, timeoutMs: 20000 })
    d.bms.sleep()
    await d.waitForLine("LED: bms_not_answering", { since, timeoutMs: 10000 })
    const woke = d.mark()
    d.bms.wake()
    await d.waitForLine(/^BMS link: ok/, { since: woke, timeoutMs: 10000 })
    await d.waitForLine("LED: normal", { since: woke, timeoutMs: 5000 }) // the LED follows the link on its own turn
    assert.deepEqual(ledSequence(d, since), ["reset_window", "connecting", "normal", "bms_not_answering", "normal"])
    assert.ok(d.led.blinkRate(2000) > 0, "the host sees the LED blink")
})
