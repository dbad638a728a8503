// Drives the status LED (the light bulb role "statusLed" of the board) with the pattern of the
// dongle's state, and prints "LED: <pattern>" when it changes.
import * as ds from "@devicescript/core"
import { startTask } from "../platform/tasks"
import { LedInputs, ledPatternFor, patternSteps } from "./patterns"
import { Signal } from "../platform/signal"

/** What setLedInputs was told so far (an input not told yet is absent: false). */
const inputs = {} as LedInputs
let pattern = ""
const changed = new Signal()

/** Updates part of the state the LED shows. */
export function setLedInputs(update: Partial<LedInputs>) {
    const u = update as any
    const target = inputs as any
    for (const k of Object.keys(update)) target[k] = u[k]
    const next = ledPatternFor(inputs)
    if (next === pattern) return
    pattern = next
    console.log(`LED: ${pattern}`)
    changed.emit(1)
}

export function ledPattern() {
    return pattern
}

export function startStatusLed() {
    const led = new ds.LightBulb()
    startTask("status LED", async () => {
        for (;;) {
            const current = pattern
            const steps = patternSteps(current)
            for (let i = 0; i < steps.length && pattern === current; i++) {
                if (steps[i] <= 0) continue
                if (led.isBound) await led.intensity.write(i % 2 === 0 ? 1 : 0)
                await changed.wait(steps[i]) // a new pattern starts at once
            }
            if (!steps.length) await changed.wait()
        }
    })
}
