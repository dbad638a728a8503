// Background tasks: DeviceScript insists on `await` for every promise, so a task that runs beside
// the caller is started from a timer. A task that throws is logged, never silently lost.

export function startTask(name: string, body: () => Promise<void>) {
    setTimeout(async () => {
        try {
            await body()
        } catch (e) {
            console.warn(`${name} stopped: ${(e as Error).message}`)
        }
    }, 0)
}
