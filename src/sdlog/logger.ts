// Logs the battery to the SD card every sdlog.period seconds when sdlog.on (cell log too when
// sdlog.cells). No rows before the clock is known. An empty slot since boot is the state "no_card"
// (not a failure). A card that was in use and disappears, or is full or failing, is reported once
// (console, status, errors journal) and retried every period: logging resumes when the card is back. Rows are appended with the file's expected size, so a retried append never
// doubles a row, and after a reset a partly written last row is closed before the next one.
import * as ds from "@devicescript/core"
import { bmsLink, currentSnapshot, lastSnapshot } from "../bms/store"
import { LINK_OK } from "../bms/link-state"
import { dateCode, isoTime, wallClock } from "../platform/clock"
import { append, FileStoreError, makeFolder, read, stat, STATUS_NOT_FOUND } from "../platform/file-store"
import { startTask } from "../platform/tasks"
import { setting } from "../settings/store"
import { batteryLine, CELL_FOLDER, cellHeader, cellRow, logPath, MAIN_FOLDER, mainHeader, mainRow } from "./format"
import { splitText } from "../platform/text"

const MAX_HEAD_BYTES = 1024

export interface SdStatus {
    state: string // "off", "starting", "waiting_for_clock", "ok", "no_card", or the card's error (full, io_error, ...)
    lastRow: string
    rows: number
}

export const sdStatus: SdStatus = { state: "off", lastRow: "", rows: 0 }
export const STATE_NO_CARD = "no_card"
/** A row was written since boot: from then on a missing card is a failure. */
let cardUsed = false
/** The errors journal was told the card fails. */
let failing = false
/** Emitted with true when the card fails, false when it works again (for the errors journal). */
export const sdErrorChanged = ds.emitter<boolean>()

interface OpenFile {
    path: string
    size: number
    columns: number
}

const files: Record<string, OpenFile> = {}

/** The file of the day, created with its two first lines when new; null on a card error (thrown). */
async function ensureFile(folder: string, code: string, kind: string, columns: number, header: string) {
    const path = logPath(folder, code)
    const known = files[folder]
    if (known && known.path === path) return known
    let size = 0
    let cols = columns
    try {
        size = (await stat(path)).size
    } catch (e) {
        if (!(e instanceof FileStoreError) || (e as FileStoreError).status !== STATUS_NOT_FOUND) throw e
    }
    if (size === 0) {
        await makeFolder(folder)
        const head = batteryLine(kind, setting("user.serial"), setting("user.location"), ds.deviceIdentifier("self")) + header
        size = await append(path, head, 0)
    } else {
        // a file of earlier today: keep its columns; close a row a reset cut short
        const last = await read(path, size - 1, 1)
        if (last.length === 1 && last[0] !== 10) size = await append(path, "\r\n", size)
        const head = await read(path, 0, MAX_HEAD_BYTES) // the battery line and the header row (48 cells: ~700 B)
        const lines = splitText(head.toString(), "\r\n")
        if (lines.length > 2) cols = splitText(lines[1], ",").length - (kind === "main" ? 14 : 2)
    }
    const f: OpenFile = { path, size, columns: cols }
    files[folder] = f
    return f
}

async function writeRow(folder: string, f: OpenFile, row: string) {
    try {
        f.size = await append(f.path, row, f.size)
    } catch (e) {
        delete files[folder] // size unknown now: stat again next time
        throw e
    }
}

async function logOnce() {
    const clock = await wallClock()
    if (!clock) {
        if (sdStatus.state !== "waiting_for_clock") console.log("SD log: waiting for the clock (no rows without a date)")
        sdStatus.state = "waiting_for_clock"
        return
    }
    const time = isoTime(clock)
    const code = dateCode(clock)
    const s = currentSnapshot()
    const last = lastSnapshot
    if (!last && bmsLink === "starting") return // the header's columns need the pack's first snapshot
    const link = bmsLink === LINK_OK && !s ? "paused" : bmsLink
    const sensors = last ? last.tempsC.length : 0
    const cells = last ? last.cellsMv.length : 0
    try {
        const main = await ensureFile(MAIN_FOLDER, code, "main", sensors, mainHeader(sensors))
        await writeRow(MAIN_FOLDER, main, mainRow(time, s, link, main.columns))
        if (setting("sdlog.cells")) {
            const cell = await ensureFile(CELL_FOLDER, code, "cell", cells, cellHeader(cells))
            await writeRow(CELL_FOLDER, cell, cellRow(time, s, link, cell.columns))
        }
        if (sdStatus.state !== "ok") {
            console.log(`SD log: writing ${logPath(MAIN_FOLDER, code)}${setting("sdlog.cells") ? " and " + logPath(CELL_FOLDER, code) : ""}`)
            if (failing) sdErrorChanged.emit(false)
            failing = false
        }
        sdStatus.state = "ok"
        sdStatus.lastRow = time
        sdStatus.rows++
        cardUsed = true
    } catch (e) {
        const reason = e instanceof FileStoreError ? (e as Error).message.slice((e as Error).message.lastIndexOf(": ") + 2) : "io_error"
        if (reason === STATE_NO_CARD && !cardUsed) {
            // an empty slot is a state, not a failure, until a card has been in use
            if (sdStatus.state !== STATE_NO_CARD) console.log("SD log: no card; logging starts when one is inserted")
            sdStatus.state = STATE_NO_CARD
            return
        }
        if (!failing) {
            failing = true
            sdErrorChanged.emit(true)
        }
        if (sdStatus.state !== reason) {
            console.log(`SD log: card error (${reason}); the dongle keeps running, logging resumes when the card is back`)
        }
        sdStatus.state = reason
    }
}

export function startSdLogging() {
    if (!setting("sdlog.on")) {
        console.log("SD log: off")
        return
    }
    const periodMs = (setting("sdlog.period") as number) * 1000
    console.log(`SD log: every ${periodMs / 1000} s${setting("sdlog.cells") ? ", with cell logs" : ""}`)
    sdStatus.state = "starting"
    startTask("SD log", async () => {
        for (;;) {
            const started = ds.millis()
            await logOnce()
            const left = periodMs - (ds.millis() - started)
            await ds.sleep(left > 100 ? left : 100)
        }
    })
}
