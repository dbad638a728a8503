import * as ds from "@devicescript/core"

/**
 * A wake-up call for tasks that wait: `wait` suspends the calling task until the next `emit` or its
 * timeout. DeviceScript's `ds.wait` on an emitter costs about 250 bytes of heap for each waiting task
 * (a subscription, its wrapper and the frames three closures keep); here a waiting task costs one
 * slot of an array. A flood of connections, each with tasks waiting, ran the 64 KB heap out.
 */
export class Signal {
    private waiting: ds.Fiber[] = []

    /** The value emitted, or `undefined` after `timeoutMs` (none: waits for the next emit). */
    async wait(timeoutMs?: number): Promise<number> {
        const self = ds.Fiber.self()
        this.waiting.push(self)
        const v = await ds.suspend<number>(timeoutMs)
        const i = this.waiting.indexOf(self)
        if (i >= 0) this.waiting.insert(i, -1)
        return v
    }

    /** Wakes every task waiting now with `v`. */
    emit(v: number) {
        while (this.waiting.length) {
            const f = this.waiting.shift()
            if (f.suspended) f.resume(v)
        }
    }
}
