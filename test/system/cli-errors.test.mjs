// Bad input to the host runtime: a one-line error naming the problem and a non-zero exit.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { runCli, tempDir } from "./helpers.mjs"

function assertOneLineError(r, pattern) {
    assert.notEqual(r.code, 0, `exit code (stderr: ${r.stderr})`)
    const lines = r.stderr.trim().split("\n")
    assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`)
    assert.match(lines[0], pattern)
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace")
}

test("unknown option", async () => {
    assertOneLineError(await runCli(["--bogus"]), /^smartbms-host: unknown option --bogus/)
})

test("bad option values", async () => {
    assertOneLineError(await runCli(["--bms-cells", "49"]), /--bms-cells: "49" is not a whole number from 1 to 48/)
    assertOneLineError(await runCli(["--port-map", "502:1502"]), /--port-map: "502:1502" is not PORT=PORT/)
    assertOneLineError(await runCli(["--sd"]), /--sd needs a value/)
})

test("missing serial port", async t => {
    const dir = tempDir(t)
    const r = await runCli(["--bms-port", "/dev/ttyNOPE0", "--state", path.join(dir, "s")])
    assertOneLineError(r, /^smartbms-host: cannot open serial port \/dev\/ttyNOPE0: /)
})

test("unreadable capture file", async t => {
    const dir = tempDir(t)
    assertOneLineError(
        await runCli(["--bms-capture", path.join(dir, "nope.txt"), "--state", path.join(dir, "s")]),
        /^smartbms-host: cannot read capture file .*nope\.txt: no such file$/,
    )
})

test("malformed capture line names the file and line", async t => {
    const dir = tempDir(t)
    const file = path.join(dir, "cap.txt")
    fs.writeFileSync(file, "# ok\n90: A5 01 90 08 02 12 00 00 75 30 02 00 F9\n95 A5 01\n")
    assertOneLineError(await runCli(["--bms-capture", file, "--state", path.join(dir, "s")]), /cap\.txt:3: malformed line "95 A5 01"/)
    fs.writeFileSync(file, "90: A5 01 9\n")
    assertOneLineError(await runCli(["--bms-capture", file, "--state", path.join(dir, "s")]), /cap\.txt:1: malformed bytes "A5 01 9"/)
})

test("malformed register image line names the file and line", async t => {
    const dir = tempDir(t)
    const file = path.join(dir, "image.txt")
    const run = async text => (fs.writeFileSync(file, text), await runCli(["--bms-capture", file, "--state", path.join(dir, "s")]))
    assertOneLineError(await run("# newer unit\nprotocol d2\n@0000: 0CCF 0CD\n"), /image\.txt:3: malformed register values "0CCF 0CD"/)
    assertOneLineError(await run("protocol 81 board 1\n@00G0: 0000\n"), /image\.txt:2: malformed line "@00G0: 0000"/)
    assertOneLineError(await run("@0000: 0CCF\n"), /image\.txt:1: registers before the "protocol d2" or "protocol 81 board N" line/)
    assertOneLineError(await run("protocol 81 board 17\n"), /image\.txt:1: board number 17 is out of range 1\.\.16/)
    assertOneLineError(await run("protocol x\n"), /image\.txt:1: malformed line "protocol x"/)
})

test("bad BMS protocol options", async () => {
    assertOneLineError(await runCli(["--bms-protocol", "modbus"]), /^smartbms-host: --bms-protocol: "modbus" is not a5, d2 or 81$/)
    assertOneLineError(await runCli(["--bms-board", "2"]), /--bms-board is the board number of the 81 scheme/)
    assertOneLineError(await runCli(["--bms-protocol", "81", "--bms-board", "0"]), /--bms-board: "0" is not a whole number from 1 to 16/)
})

test("missing firmware image", async t => {
    const dir = tempDir(t)
    assertOneLineError(
        await runCli(["--firmware", path.join(dir, "none.devs"), "--state", path.join(dir, "s")]),
        /firmware image .*none\.devs not found: run "npm run build" first/,
    )
})

test("a privileged port that cannot be bound: the firmware gets the reason and the way out", async t => {
    const { spawn } = await import("node:child_process")
    const { FIXTURES, CLI, stopBeforeRemoval } = await import("./helpers.mjs")
    const asRoot = process.getuid?.() === 0
    if (asRoot && !fs.existsSync("/usr/bin/setpriv")) return t.skip("running as root without setpriv: every port can be bound")
    const dir = tempDir(t)
    fs.chmodSync(dir, 0o777)
    // as root, drop to nobody: ports below 1024 then need privileges, as on a user's PC
    const drop = asRoot ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] : []
    const args = [...drop, process.execPath, CLI, "--firmware", path.join(FIXTURES, "contract-probe.devs"),
        "--state", path.join(dir, "state"), "--sd", path.join(dir, "sd"), "--port-map", "7101=80,7102=0"]
    const child = spawn(args[0], args.slice(1), { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
    const ended = new Promise(r => child.once("close", r))
    stopBeforeRemoval(t, () => (child.kill("SIGKILL"), ended)) // the host and its VM write in the folder
    let out = ""
    let err = ""
    child.stdout.on("data", d => (out += d))
    child.stderr.on("data", d => (err += d))
    const deadline = Date.now() + 20000
    // two tasks of the probe: the TCP one stops and the UDP one listens, in either order
    while (!(/probe tcp stopped/.test(out) && /probe: listening on udp 7102/.test(out)) && Date.now() < deadline) await new Promise(r => setTimeout(r, 50))
    assert.match(out, /probe tcp stopped: permission_denied: port 80 needs privileges on this computer; run the host runtime with --port-map 7101=8101 \(or as root\)/)
    assert.match(err, /\[host\] port 80 needs privileges on this computer; run the host runtime with --port-map 7101=8101/)
    assert.match(out, /probe: listening on udp 7102/, "the rest of the firmware keeps running")
})
