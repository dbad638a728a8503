import * as ds from "@devicescript/core"
import { describe, test, expect } from "@devicescript/test"
import { Signal } from "../../src/platform/signal"

describe("signal", () => {
    test("a waiting task gets the value emitted", async () => {
        const s = new Signal()
        setTimeout(() => s.emit(7), 20)
        expect(await s.wait(2000)).toBe(7)
    })
    test("the timeout gives undefined, and a later emit finds nobody waiting", async () => {
        const s = new Signal()
        const t0 = ds.millis()
        expect(await s.wait(50)).toBe(undefined)
        expect(ds.millis() - t0 >= 45).toBe(true)
        s.emit(1) // must not resume this task while it sleeps below
        await ds.sleep(30)
        expect(await s.wait(30)).toBe(undefined)
    })
    test("every task waiting is woken, each once", async () => {
        const s = new Signal()
        let woken = 0
        const waiter = async () => {
            if ((await s.wait(2000)) === 3) woken++
        }
        waiter.start()
        waiter.start()
        waiter.start()
        await ds.sleep(20)
        s.emit(3)
        s.emit(4) // nobody waits any more
        await ds.sleep(20)
        expect(woken).toBe(3)
    })
    test("an emit while nobody waits is not kept for the next wait", async () => {
        const s = new Signal()
        s.emit(5)
        expect(await s.wait(30)).toBe(undefined)
    })
})
