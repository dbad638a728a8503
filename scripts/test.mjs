#!/usr/bin/env node
// `npm test`: builds the firmware, runs every unit test file inside the DeviceScript VM (never the
// false-pass mode: --test-self-exit is always given), then the system tests with Node's test runner
// against the host runtime, and the C unit tests of the native services' portable core (native/test,
// built with the machine's C compiler). Ends with "N passed, M failed" and exits non-zero on any
// failure. `npm test -- unit|system|native` runs one part.
import { spawn } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { createRequire } from "node:module"

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..")
const cli = createRequire(import.meta.url).resolve("@devicescript/cli/built/devicescript-cli.cjs")
const UNIT_TIMEOUT_MS = 60000
/** System test files run side by side: they mostly wait (wire timing, windows, periods), so three
 * dongles at once keep 2 cores busy without starving them. */
const SYSTEM_CONCURRENCY = 3

function run(cmd, args, { echo = true } = {}) {
    return new Promise(resolve => {
        const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
        let out = ""
        const take = d => {
            out += d
            if (echo) process.stdout.write(d)
        }
        child.stdout.on("data", take)
        child.stderr.on("data", take)
        child.on("close", code => resolve({ code, out }))
    })
}

let passed = 0
let failed = 0
const failures = []

const only = process.argv.slice(2) // optional: "unit", "system" or "native"
const want = kind => !only.length || only.includes(kind)

if (want("native")) {
    // the portable C core of native/ (the dongle's own services), against the PC's sockets and files
    console.log("\n# native (C, portable core of native/)")
    const make = await run("make", ["-s", "-C", path.join("native", "test")])
    if (make.code !== 0) {
        failed++
        failures.push("native: the C tests did not compile (make -C native/test)")
    } else {
        const r = await run(path.join(root, "native", "test", "build", "native-tests"), [])
        const m = /^native: (\d+) passed, (\d+) failed$/m.exec(r.out)
        const pass = m ? Number(m[1]) : 0
        const fail = m ? Number(m[2]) : 0
        passed += pass
        failed += fail
        if (fail) failures.push(`native: ${fail} C tests failed`)
        if (!m || (r.code !== 0 && !fail)) {
            failed++
            failures.push(`native: the C tests did not finish (exit ${r.code})`)
        }
    }
}

if (want("unit") || want("system")) {
    const build = await run(process.execPath, [path.join(root, "scripts", "build.mjs")])
    if (build.code !== 0) {
        console.log("build failed")
        console.log(`${passed} passed, ${failed + 1} failed`)
        process.exit(1)
    }
}

if (want("unit")) {
    const files = fs.readdirSync(path.join(root, "test", "unit")).filter(f => f.endsWith(".test.ts")).sort()
    for (const f of files) {
        const rel = `test/unit/${f}`
        console.log(`\n# unit (DeviceScript VM): ${rel}`)
        const r = await run(process.execPath, [cli, "--no-colors", "run", rel, "--test", "--test-self-exit", "-T", String(UNIT_TIMEOUT_MS)])
        const m = /tests: (\d+), pass: (\d+), error: (\d+)/.exec(r.out)
        const ok = r.code === 0 && m && /test OK/.test(r.out) && Number(m[3]) === 0 && Number(m[1]) > 0
        const total = m ? Number(m[1]) : 0
        const pass = m ? Number(m[2]) : 0
        passed += pass
        const bad = ok ? 0 : Math.max(1, total - pass)
        failed += bad
        if (!ok) failures.push(`${rel}: ${m ? `${m[3]} of ${m[1]} failed` : "did not run its tests"} (exit ${r.code})`)
    }
}

/** Runs system test files with node --test; adds their TAP totals. */
async function systemRun(files, concurrency, label) {
    console.log(`\n# system (Node test runner, host runtime): ${label}`)
    const r = await run(process.execPath, [
        "--test", `--test-concurrency=${concurrency}`, "--test-reporter=tap",
        ...files.map(f => path.join("test", "system", f)),
    ])
    const pass = Number(/^# pass (\d+)/m.exec(r.out)?.[1] ?? 0)
    const fail = Number(/^# fail (\d+)/m.exec(r.out)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(r.out)?.[1] ?? 0)
    passed += pass
    failed += fail
    if (r.code !== 0 && fail === 0) {
        failed++
        failures.push(`system tests (${label}) exited with ${r.code}`)
    } else if (fail) failures.push(`${fail} system tests failed (${label})`)
}

// The browser tests run alone: a page under a machine loaded with other dongles is not what they test;
// the robustness flood alone too: it measures what the dongle survives, not what the machine has left.
const ALONE = ["browser.test.mjs", "browser-data.test.mjs", "robustness.test.mjs"]

if (want("system")) {
    const files = fs.readdirSync(path.join(root, "test", "system")).filter(f => f.endsWith(".test.mjs")).sort()
    await systemRun(files.filter(f => !ALONE.includes(f)), SYSTEM_CONCURRENCY, `${files.length - ALONE.length} files, ${SYSTEM_CONCURRENCY} at a time`)
    await systemRun(files.filter(f => ALONE.includes(f)), 1, ALONE.join(", "))
}

console.log("")
for (const f of failures) console.log(`FAILED: ${f}`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed || !passed ? 1 : 0)
