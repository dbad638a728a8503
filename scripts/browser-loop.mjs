#!/usr/bin/env node
// Runs the browser scenario (test/system/browser.test.mjs, one attempt, a fresh dongle each time)
// N times in a row and prints one line per run and the count: the proof that the page always gets
// its answers. Not part of `npm test`. Usage: nice -n 5 node scripts/browser-loop.mjs [N=20]
// (after `node scripts/build.mjs`).
import { spawnSync } from "node:child_process"
import path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const runs = Number(process.argv[2] ?? 20)
let passed = 0
const durations = []
for (let i = 1; i <= runs; i++) {
    const t0 = Date.now()
    const r = spawnSync(process.execPath, ["--test", "test/system/browser.test.mjs"], { cwd: root, encoding: "utf8" })
    const s = ((Date.now() - t0) / 1000).toFixed(1)
    durations.push(s)
    const out = r.stdout + r.stderr
    const ok = r.status === 0 && /^# pass 1$/m.test(out) && /^# skipped 0$/m.test(out)
    if (ok) passed++
    console.log(`run ${i}: ${ok ? "pass" : "FAIL"} ${s} s`)
    if (!ok) console.log(out.split("\n").filter(l => /not ok|rror|Timeout|expected|actual|the page says|PANIC|OutOfMemory/.test(l)).slice(0, 20).join("\n"))
}
console.log(`${passed} of ${runs} runs passed at their only attempt; durations (s): ${durations.join(" ")}`)
process.exit(passed === runs ? 0 : 1)
