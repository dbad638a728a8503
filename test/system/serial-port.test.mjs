// --bms-port with a real serial device: socat makes a pseudo-terminal pair; the virtual BMS sits on
// one end through the serialport package, the dongle on the other with bmsPort. Bytes cross a real
// tty at 9600 8N1, as with a USB-TTL cable.
import { test } from "node:test"
import assert from "node:assert/strict"
import { spawn, execFileSync } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { SerialPort } from "serialport"
import { VirtualBms } from "../../host/bms/virtual-bms.mjs"
import { startTestDongle, tempDir, sleep } from "./helpers.mjs"

function haveSocat() {
    try {
        execFileSync("socat", ["-V"], { stdio: "ignore" })
        return true
    } catch {
        return false
    }
}

test("the firmware reads a BMS on a real serial port", { skip: !haveSocat() && "socat is not installed (.ci/run installs it)" }, async t => {
    const dir = tempDir(t)
    const bmsEnd = path.join(dir, "bms-tty")
    const dongleEnd = path.join(dir, "dongle-tty")
    const socat = spawn("socat", [`pty,raw,echo=0,link=${bmsEnd}`, `pty,raw,echo=0,link=${dongleEnd}`], { stdio: "ignore" })
    t.after(() => socat.kill())
    for (let i = 0; i < 100 && !(fs.existsSync(bmsEnd) && fs.existsSync(dongleEnd)); i++) await sleep(20)

    const bms = new VirtualBms({ cells: 16, soc: 87.5, current: 4.2 })
    const port = new SerialPort({ path: bmsEnd, baudRate: 9600 })
    await new Promise((resolve, reject) => port.once("open", resolve).once("error", reject))
    port.on("data", d => bms.write(d))
    bms.on("data", d => port.write(d))
    t.after(() => (bms.close(), port.close()))

    const d = await startTestDongle(t, { dir, bmsPort: dongleEnd })
    await d.waitForLine(/^BMS link: ok/, { timeoutMs: 20000 })
    const s = await d.bmsService.read()
    assert.equal(s.current_a, 4.2)
    assert.equal(s.soc_pct, 87.5)
    assert.deepEqual(s.cells_mv, bms.model.cellVoltagesMv())
})
