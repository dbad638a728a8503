// The one source of truth for the battery inside the firmware. The poller writes; every other
// feature reads here and listens to `bmsChanged` (emitted on every new snapshot and link change).
import * as ds from "@devicescript/core"
import { BmsInfo } from "./decode"
import { LINK_OK, LINK_STARTING } from "./link-state"
import { BmsSnapshot } from "./snapshot"

let snapshot: BmsSnapshot = null
let link = LINK_STARTING
let info: BmsInfo = {}
let paused = false

export const bmsChanged = ds.emitter<number>()
export const linkChanged = ds.emitter<string>()

/**
 * The current snapshot, or null when there is none, the link is down, or polling is paused for a
 * PCMaster session: never stale data as current.
 */
export function currentSnapshot() {
    return link === LINK_OK && !paused ? snapshot : null
}

/** Polling is paused: a PCMaster session has the BMS. */
export function pollingPaused() {
    return paused
}

export function publishPaused(p: boolean) {
    if (p === paused) return
    paused = p
    bmsChanged.emit(1)
}

/** The last good snapshot, whatever the link (for "last seen" displays, with its readAtMs). */
export function lastSnapshot() {
    return snapshot
}

export function bmsLink() {
    return link
}

export function bmsInfo() {
    return info
}

export function publishSnapshot(s: BmsSnapshot) {
    snapshot = s
    bmsChanged.emit(1)
}

export function publishLink(state: string) {
    if (state === link) return
    link = state
    linkChanged.emit(state)
    bmsChanged.emit(1)
}

export function publishInfo(i: BmsInfo) {
    info = i
}
