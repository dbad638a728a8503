// Uploads the SD card's logs to the FTP server every ftp.period seconds when ftp.on (docs/service.md):
// closed days not sent yet, and today's file again as it grows; cell logs only with ftp.cells. A
// file goes up as NAME.part and is renamed to NAME on success; a file that grew, when the server's
// SIZE is the size recorded, gets only its new bytes (APPE). Then it is recorded in LOGSENT.TXT or
// CELLSENT.TXT on the card. A failure records nothing and the next period tries again (a cut
// append leaves a server size unlike the recorded one: the whole file goes up again).
import * as ds from "@devicescript/core"
import { readSetting, writeSetting, deleteSetting } from "@devicescript/settings"
import { append, FileEntry, FileStoreError, list, read, stat, STATUS_NOT_FOUND } from "../platform/file-store"
import { isoTime, wallClock } from "../platform/clock"
import { startTask } from "../platform/tasks"
import { setting } from "../settings/store"
import { CELL_FOLDER, MAIN_FOLDER } from "../sdlog/format"
import { FtpClient, FtpError } from "./client"
import { filesToSend, LogFile, parseSent, sentLine } from "./protocol"
import { Signal } from "../platform/signal"

const RESEND_KEY = "ftpResendFrom"
/**
 * Bytes read from the card and sent at a time: one file-store read (224 B). Four joined in one
 * 896 B block ran a fragmented heap out (OutOfMemory in bench:heap with everything on); the requests
 * are the same, so uploads are as fast.
 */
const CHUNK = 224

export interface FtpStatus {
    state: string // "off", "idle", "sending", "ok", "failed"
    lastLogin: string
    lastSuccess: string
    lastError: string
    sentFiles: number
}

export const ftpStatus: FtpStatus = { state: "off", lastLogin: "", lastSuccess: "", lastError: "", sentFiles: 0 }
/** true when an upload failed, false when one succeeded (for the errors journal). */
export const ftpFailureChanged = ds.emitter<boolean>()
const sendNow = new Signal()

/** The next period sends every file dated `from` (YYYYMMDD) or later again. */
export async function resendFrom(from: string) {
    await writeSetting(RESEND_KEY, from)
}

/** Upload at once instead of waiting for the period. */
export function triggerUpload() {
    sendNow.emit(1)
}

async function now() {
    const c = await wallClock()
    return c ? isoTime(c) : `uptime ${Math.floor(ds.millis() / 1000)} s`
}

async function readText(path: string) {
    try {
        const size = (await stat(path)).size
        return size ? (await read(path, 0, size)).toString() : ""
    } catch (e) {
        if (e instanceof FileStoreError && (e as FileStoreError).status === STATUS_NOT_FOUND) return ""
        throw e
    }
}

async function logFiles(folder: string): Promise<LogFile[]> {
    let entries: FileEntry[] = []
    try {
        entries = await list(folder)
    } catch (e) {
        if (e instanceof FileStoreError && (e as FileStoreError).status === STATUS_NOT_FOUND) return []
        throw e
    }
    return entries.filter(e => !e.isFolder && e.name.indexOf(".CSV") === 8).map(e => ({ name: e.name, size: e.size }))
}

function chunkReader(path: string, size: number) {
    return async (off: number) => await read(path, off, Math.min(CHUNK, size - off))
}

async function uploadFolder(ftp: FtpClient, folder: string, sentFile: string, from: string) {
    const sent = parseSent(await readText(sentFile))
    const remoteFolder = folder.slice(1)
    const todo = filesToSend(await logFiles(folder), sent, from)
    if (!todo.length) return 0
    await ftp.makeFolder(remoteFolder)
    for (const f of todo) {
        const local = `${folder}/${f.name}`
        const remote = `${remoteFolder}/${f.name}`
        const chunk = chunkReader(local, f.size)
        // grown since sent, and the server holds exactly what was sent: only the new bytes (APPE);
        // a resend (`from` a date) sends whole files
        let have = from ? 0 : sent[f.name]
        if (!(have > 0 && have < f.size && (await ftp.size(remote)) === have && (await ftp.store(remote, f.size, chunk, have)))) {
            have = 0
            await ftp.store(remote + ".part", f.size, chunk)
            await ftp.rename(remote + ".part", remote)
        }
        await append(sentFile, sentLine(f.name, f.size, await now()))
        ftpStatus.sentFiles++
        console.log(`FTP: sent ${remote} (${f.size} bytes${have ? `, ${f.size - have} appended` : ""})`)
    }
    return todo.length
}

async function uploadOnce() {
    ftpStatus.state = "sending"
    const ftp = new FtpClient()
    try {
        await ftp.login(setting("ftp.host"), setting("ftp.port"), setting("ftpAuth.user"), setting("ftpAuth.pass"))
        ftpStatus.lastLogin = await now()
        const from = ((await readSetting<string>(RESEND_KEY, "")) || "") as string
        let n = await uploadFolder(ftp, MAIN_FOLDER, "/LOGSENT.TXT", from)
        if (setting("ftp.cells")) n += await uploadFolder(ftp, CELL_FOLDER, "/CELLSENT.TXT", from)
        await ftp.quit()
        if (from) await deleteSetting(RESEND_KEY)
        if (ftpStatus.state !== "ok" && ftpStatus.lastError) ftpFailureChanged.emit(false)
        ftpStatus.state = "ok"
        ftpStatus.lastError = ""
        ftpStatus.lastSuccess = await now()
        console.log(`FTP: ${n ? n + " files sent" : "nothing new to send"}`)
    } catch (e) {
        await ftp.quit()
        const msg = e instanceof FtpError || e instanceof FileStoreError ? (e as Error).message : `error: ${(e as Error).message}`
        console.log(`FTP: ${msg}; nothing recorded as sent, retried at the next period`)
        if (!ftpStatus.lastError) ftpFailureChanged.emit(true)
        ftpStatus.state = "failed"
        ftpStatus.lastError = msg
    }
}

export function startFtpUpload() {
    if (!setting("ftp.on")) return
    if (!setting("ftp.host")) {
        console.log("FTP: on, but no server host is set")
        return
    }
    const periodMs = (setting("ftp.period") as number) * 1000
    ftpStatus.state = "idle"
    console.log(`FTP: ${setting("ftp.host")}:${setting("ftp.port")} every ${periodMs / 1000} s${setting("ftp.cells") ? ", with cell logs" : ""}`)
    startTask("FTP upload", async () => {
        for (;;) {
            await sendNow.wait(periodMs)
            await uploadOnce()
        }
    })
}
