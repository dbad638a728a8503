import * as ds from "@devicescript/core"
// Background tasks: DeviceScript insists on `await` for every promise, so a task that runs beside
// the caller is started as a fiber of its own. A task that throws is logged, never silently lost.

export function startTask(name: string, body: () => Promise<void>) {
    // a fiber of its own that starts in runTask: through a timer and a closure, each long-running
    // task kept two more frames on the heap for good
    runTask.start(name, body)
}

async function runTask(name: string, body: () => Promise<void>) {
    try {
        await body()
    } catch (e) {
        console.warn(`${name} stopped: ${(e as Error).message}`)
    }
}

/**
 * Hands every report of `role` to `handler` at once, in the fiber that received it; `handler` must
 * not wait. (DeviceScript's `role.report().subscribe` goes through an emitter that, when several
 * reports arrive before its handler's fiber runs, hands it only the newest: a burst of reports
 * (stream-socket data, a directory listing, UART bytes) loses all but the last.)
 */
export function onEveryReport(role: ds.Role, handler: (pkt: ds.Packet) => void) {
    const others = role.report() as ds.Emitter<ds.Packet> // still there for other subscribers (ds.actionReport)
    const r = role as any
    r._report = {
        emit: (pkt: ds.Packet) => {
            handler(pkt)
            others.emit(pkt)
        },
        subscribe: (f: ds.Handler<ds.Packet>) => others.subscribe(f),
    }
}
