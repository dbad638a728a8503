// The last 24 hours of the battery for the status page's charts (docs/api.md, GET /api/history):
// one point every hist.step seconds (default 900 s) in a ring of HISTORY_POINTS points of
// POINT_BYTES bytes, 1152 bytes of heap in all, allocated once (the heap is 64 KB and nearly full). A point is the snapshot current at
// that moment (a decimated series, not an average: no accumulators); without one (bms_data_error,
// PCMaster session, starting) the point is a gap. Lost at a restart.
import * as ds from "@devicescript/core"
import { currentSnapshot } from "../bms/store"
import { BmsSnapshot } from "../bms/snapshot"
import { startTask } from "../platform/tasks"
import { setting } from "../settings/store"

export const HISTORY_POINTS = 96
/** u16 voltage 0.01 V, i16 current 0.1 A, u16 SOC 0.1 %, u16 lowest and highest cell mV, i8 lowest and highest temperature °C */
export const POINT_BYTES = 12
/** In the voltage field: no data at this point. */
export const NO_DATA = 0xffff

const ring = Buffer.alloc(HISTORY_POINTS * POINT_BYTES)
let next = 0
let count = 0
let newestAt = 0

/** Puts the point of `s` (null: a gap) after the newest one, over the oldest when the ring is full. */
export function recordPoint(s: BmsSnapshot, nowMs: number) {
    const o = next * POINT_BYTES
    if (!s) ring.setAt(o, "u16", NO_DATA)
    else {
        ring.setAt(o, "u16", Math.round(s.voltageV * 100))
        ring.setAt(o + 2, "i16", Math.round(s.currentA * 10))
        ring.setAt(o + 4, "u16", Math.round(s.socPct * 10))
        ring.setAt(o + 6, "u16", s.cellMinMv)
        ring.setAt(o + 8, "u16", s.cellMaxMv)
        ring.setAt(o + 10, "i8", s.minTempC === null ? 127 : s.minTempC) // no sensor: 127 and -128
        ring.setAt(o + 11, "i8", s.maxTempC === null ? -128 : s.maxTempC)
    }
    next = (next + 1) % HISTORY_POINTS
    count = Math.min(HISTORY_POINTS, count + 1)
    newestAt = nowMs
}

/**
 * The ring, oldest point first, after an 8-byte head (u16 step in s, u16 number of points, u32 age
 * of the newest point in s), to `out` in two pieces.
 */
export async function writeHistory(out: (b: Buffer) => Promise<void>) {
    const points = count // as it is now: a point recorded meanwhile is not half sent
    const head = Buffer.alloc(8)
    head.setAt(0, "u16", setting("hist.step"))
    head.setAt(2, "u16", points)
    head.setAt(4, "u32", Math.round((ds.millis() - newestAt) / 1000)) // without points: meaningless
    await out(head)
    // oldest first: from `next` to the end of the ring, then from its start (a full ring)
    const first = points < HISTORY_POINTS ? 0 : next
    await out(ring.slice(first * POINT_BYTES, (first + points > HISTORY_POINTS ? HISTORY_POINTS : first + points) * POINT_BYTES))
    if (first) await out(ring.slice(0, first * POINT_BYTES))
}

export function startHistory() {
    startTask("History", async () => {
        for (;;) {
            await ds.sleep((setting("hist.step") as number) * 1000)
            recordPoint(currentSnapshot(), ds.millis())
        }
    })
}
