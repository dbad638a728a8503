// The one source of truth for the battery inside the firmware. The poller writes; every other
// feature reads here and listens to `bmsChanged` (emitted on every new snapshot and link change).
import * as ds from "@devicescript/core"
import { BmsInfo } from "./decode"
import { LINK_OK, LINK_STARTING } from "./link-state"
import { BmsSnapshot } from "./snapshot"

// Read directly by the features (an imported `let` reads live in DeviceScript: test/unit/link-state.test.ts);
// only the publish functions below write them.
/** The last good snapshot, whatever the link (for "last seen" displays, with its readAtMs). */
export let lastSnapshot: BmsSnapshot = null
export let bmsLink = LINK_STARTING
export let bmsInfo: BmsInfo = {}
/** Polling is paused: a PCMaster session has the BMS. */
export let pollingPaused = false

export const bmsChanged = ds.emitter<number>()
export const linkChanged = ds.emitter<string>()

/**
 * The current snapshot, or null when there is none, the link is down, or polling is paused for a
 * PCMaster session: never stale data as current.
 */
export function currentSnapshot() {
    return bmsLink === LINK_OK && !pollingPaused ? lastSnapshot : null
}

export function publishPaused(p: boolean) {
    if (p === pollingPaused) return
    pollingPaused = p
    bmsChanged.emit(1)
}

export function publishSnapshot(s: BmsSnapshot) {
    lastSnapshot = s
    bmsChanged.emit(1)
}

export function publishLink(state: string) {
    if (state === bmsLink) return
    bmsLink = state
    linkChanged.emit(state)
    bmsChanged.emit(1)
}

export function publishInfo(i: BmsInfo) {
    bmsInfo = i
}
