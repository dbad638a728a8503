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

test("missing firmware image", async t => {
    const dir = tempDir(t)
    assertOneLineError(
        await runCli(["--firmware", path.join(dir, "none.devs"), "--state", path.join(dir, "s")]),
        /firmware image .*none\.devs not found: run "npm run build" first/,
    )
})
