// Who owns the PCMaster bridge: one client (address and port) at a time, until it has been idle for
// SESSION_IDLE_MS. Pure.
export const SESSION_IDLE_MS = 10000

export const ACCEPT = 1 // the datagram belongs to the session (a new one starts when there is none)
export const STARTED = 2 // ...and it started a new session
export const REFUSED = 3 // another client's session is active

export class BridgeSession {
    owner = ""
    lastMs = 0

    active(nowMs: number) {
        return this.owner !== "" && nowMs - this.lastMs < SESSION_IDLE_MS
    }

    /** What to do with a datagram from `client` at `nowMs`. */
    offer(client: string, nowMs: number) {
        if (this.active(nowMs) && this.owner !== client) return REFUSED
        const started = !this.active(nowMs)
        this.owner = client
        this.lastMs = nowMs
        return started ? STARTED : ACCEPT
    }

    /** True once when an active session has just run out. */
    expired(nowMs: number) {
        if (this.owner === "" || this.active(nowMs)) return false
        this.owner = ""
        return true
    }
}
