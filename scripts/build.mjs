#!/usr/bin/env node
// Builds the firmware (built/firmware.devs) and the test fixtures (built/fixtures/NAME.devs) with
// the pinned DeviceScript compiler. Also regenerates the clients of services/*.md.
import { execFileSync } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { createRequire } from "node:module"

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..")
const cli = createRequire(import.meta.url).resolve("@devicescript/cli/built/devicescript-cli.cjs")
const out = path.join(root, "built")
const bytecode = path.join(root, ".devicescript", "bin", "bytecode.devs")

function build(entry, target) {
    try {
        execFileSync(process.execPath, [cli, "--no-colors", "--quiet", "build", entry], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    } catch (e) {
        process.stderr.write(`${e.stdout}${e.stderr}`)
        console.error(`build failed: ${entry}`)
        process.exit(1)
    }
    fs.mkdirSync(path.dirname(target), { recursive: true })
    fs.copyFileSync(bytecode, target)
    console.log(`built ${path.relative(root, target)} (${fs.statSync(target).size} bytes) from ${entry}`)
}

const onlyFirmware = process.argv.includes("--firmware-only")
const fixtures = onlyFirmware ? [] : fs.readdirSync(path.join(root, "test", "fixtures")).filter(f => f.endsWith(".ts"))
for (const f of fixtures) build(`test/fixtures/${f}`, path.join(out, "fixtures", f.replace(/\.ts$/, ".devs")))
// the firmware last, so that .devicescript/bin holds its debug information
build("src/main.ts", path.join(out, "firmware.devs"))
