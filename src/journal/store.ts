// The journal kept in flash: one settings key per position ("jrn1".."jrn32") and "jrnLast", so each
// change writes one small value. Fed every JOURNAL_CHECK_MS with the flags active now.
import * as ds from "@devicescript/core"
import { readSetting, writeSetting } from "@devicescript/settings"
import { bmsLink, lastSnapshot } from "../bms/store"
import { LINK_ERROR } from "../bms/link-state"
import { isoTime, wallClock } from "../platform/clock"
import { startTask } from "../platform/tasks"
import { FLAG_RESTARTED_AFTER_CRASH, FLAG_BMS_FAULT_CODE, FLAG_BMS_LINK_LOST, FLAG_BYTES, FLAG_SD_CARD_ERROR, flagNames, Journal, JOURNAL_SIZE } from "./journal"

export const JOURNAL_CHECK_MS = 2000
const LAST_KEY = "jrnLast"
const key = (p: number) => "jrn" + p

const journal = new Journal()
let dongleFlags = 0

/** The dongle's own error flags (FLAG_SD_CARD_ERROR, ...) on or off. */
export function setDongleFlag(bit: number, on: boolean) {
    dongleFlags = on ? dongleFlags | (1 << bit) : dongleFlags & ~(1 << bit)
}

export function journalJson() {
    const entries: any[] = []
    for (let p = 1; p <= JOURNAL_SIZE; p++) {
        const e = journal.entries[p - 1]
        if (e) entries.push({ position: p, occurred: e.o, cleared: e.c, flags: flagNames(Buffer.from(e.f, "hex")), fault_code: e.k })
    }
    return { last: journal.last, size: JOURNAL_SIZE, entries }
}

export async function loadJournal() {
    const last = await readSetting<number>(LAST_KEY, 0)
    journal.last = typeof last === "number" && last >= 0 && last <= JOURNAL_SIZE ? last : 0
    for (let p = 1; p <= JOURNAL_SIZE; p++) {
        const e = await readSetting<any>(key(p), null)
        journal.entries[p - 1] = e && typeof e.o === "string" && typeof e.f === "string" && e.f.length === 16 ? e : null
    }
}

async function timeNow() {
    const c = await wallClock()
    return c ? isoTime(c) : `uptime ${Math.floor(ds.millis() / 1000)} s`
}

/** Records the flags active now (the journal also does so every JOURNAL_CHECK_MS). */
export async function check() {
    const active = Buffer.alloc(FLAG_BYTES)
    const s = lastSnapshot
    let fault = 0
    if (s) {
        // while the link is down the last known alarms stay as they were: no data, no change
        for (let i = 0; i < 7; i++) active[i] = s.alarmBits[i]
        fault = s.faultCode
    }
    let own = dongleFlags
    dongleFlags &= ~(1 << FLAG_RESTARTED_AFTER_CRASH) // an event: one check long
    if (bmsLink === LINK_ERROR) own |= 1 << FLAG_BMS_LINK_LOST
    if (fault) own |= 1 << FLAG_BMS_FAULT_CODE
    active[7] = own
    const changed = journal.update(active, fault, await timeNow())
    if (!changed.length) return
    for (const p of changed) await writeSetting(key(p), journal.entries[p - 1])
    await writeSetting(LAST_KEY, journal.last)
    for (const p of changed) {
        const e = journal.entries[p - 1]
        console.log(`Journal ${p}: ${flagNames(Buffer.from(e.f, "hex")).join(" ")} ${e.c ? "cleared " + e.c : "since " + e.o}`)
    }
}

export async function startJournal() {
    await loadJournal()
    let n = 0
    for (const e of journal.entries) if (e) n++
    console.log(`Journal: ${n} entries, last record ${journal.last}`)
    startTask("errors journal", async () => {
        for (;;) {
            await ds.sleep(JOURNAL_CHECK_MS)
            await check()
        }
    })
}
