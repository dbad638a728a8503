#!/usr/bin/env node
// `npm start`: the whole dongle on this computer. The dongle's console goes to stdout, one line per
// message; the host's own messages go to stderr.
import { parseArgs, USAGE, UsageError } from "./options.mjs"
import { Dongle, DongleError } from "./dongle.mjs"

// jacdac-ts reports its transport's state with console.debug; the console stream is the dongle's own
console.debug = () => {}

const say = msg => process.stderr.write(`[host] ${msg}\n`)

function fail(msg) {
    process.stderr.write(`smartbms-host: ${msg}\n`)
    process.exit(2)
}

let options
try {
    options = parseArgs(process.argv.slice(2))
} catch (e) {
    if (e instanceof UsageError) fail(e.message)
    throw e
}
if (options.help) {
    process.stdout.write(USAGE + "\n")
    process.exit(0)
}

let dongle
try {
    dongle = await Dongle.start({ ...options, echo: true, log: say, renderLed: say })
} catch (e) {
    if (e instanceof DongleError || /^cannot /.test(e.message)) fail(e.message)
    throw e
}
say(`dongle ${dongle.deviceId} running; ${dongle.bms.describe()}; SD card: ${options.noSd ? "none" : dongle.sdCard.root}`)

let quitting = false
async function quit() {
    if (quitting) return
    quitting = true
    await dongle.stop()
    process.exit(0)
}
process.on("SIGINT", quit)
process.on("SIGTERM", quit)
process.on("SIGUSR2", () => dongle.reset())

if (process.stdin.isTTY) {
    say("keys: r = reset button, b = BOOT button, s = BMS sleep/wake, p = crash the firmware (a chip panic), q = quit")
    process.stdin.setRawMode(true)
    process.stdin.resume()
    process.stdin.on("data", key => {
        const k = key.toString()
        if (k === "r") dongle.reset()
        else if (k === "b") dongle.pressBoot()
        else if (k === "p") dongle.crash()
        else if (k === "s") {
            if (dongle.bms.asleep) dongle.bms.wake()
            else dongle.bms.sleep?.()
            say(`BMS ${dongle.bms.asleep ? "asleep" : "awake"}`)
        } else if (k === "q" || k === "\u0003") quit()
    })
}
