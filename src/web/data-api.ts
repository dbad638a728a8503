// The API around the data (docs/api.md): 24 h history, the SD card's log files (listed and streamed),
// settings backup (restored through POST /api/settings: the same validation, all or nothing).
// Public: history and logs (read-only, like /api/status); the backup needs a session. Returns null
// for any other path.
import * as ds from "@devicescript/core"
import { writeHistory } from "../history/history"
import { entryAt, FileStoreError, read, stat, STATUS_NOT_FOUND } from "../platform/file-store"
import { fields, SCHEMA_VERSION } from "../settings/schema"
import { setting } from "../settings/store"
import { FIRMWARE_VERSION } from "../firmware"
import { passwordHash } from "./auth"
import { splitText } from "../platform/text"
import { BodyWriter, HttpRequest, HttpResponse, json, problem } from "./http"

export const BACKUP_FORMAT = "smartbms-settings"
const FOLDERS: Record<string, string> = { main: "/LOG", cell: "/CELL" }
const READ_BYTES = 448


async function logFile(kind: string, name: string): Promise<HttpResponse> {
    const folder = FOLDERS[kind]
    // 8 digits and .CSV: parseInt stops at the dot, and a date is at least 20000101 (no path tricks)
    if (!folder || name.length !== 12 || name.slice(8) !== ".CSV" || !(parseInt(name) >= 20000101)) return problem(404, "no such log file: /api/logs/main|cell/YYYYMMDD.CSV")
    const path = `${folder}/${name}`
    let size = 0
    try {
        size = (await stat(path)).size
    } catch (e) {
        return problem((e as FileStoreError).status === STATUS_NOT_FOUND ? 404 : 503, (e as Error).message)
    }
    return {
        status: 200, type: "text/csv; charset=utf-8", body: "",
        stream: async (w: BodyWriter) => {
            for (let at = 0; at < size; at += READ_BYTES) await w.write(await read(path, at, Math.min(READ_BYTES, size - at)))
        },
    }
}

async function logList(): Promise<HttpResponse> {
    try {
        await entryAt("/", 0) // a missing card answers now, with a status, not in the middle of the list
    } catch (e) {
        return problem(503, (e as Error).message)
    }
    return {
        status: 200, type: "application/json", body: "",
        stream: async (w: BodyWriter) => {
            for (const kind of ["main", "cell"]) {
                await w.write(kind === "main" ? `{"main":[` : `],"cell":[`)
                for (let i = 0; ; i++) {
                    let e = null
                    try {
                        e = await entryAt(FOLDERS[kind], i) // one at a time: a year of files is no heap
                    } catch (err) {
                        if ((err as FileStoreError).status !== STATUS_NOT_FOUND) throw err // no folder yet: no files
                    }
                    if (!e) break
                    await w.write(`${i ? "," : ""}{"name":"${e.name}","size":${e.size},"modified":${e.modified}}`)
                }
            }
            await w.write("]}")
        },
    }
}


/** `body`: the parsed JSON body or undefined; `loggedIn`: a valid session. */
export async function handleDataApi(req: HttpRequest, body: any, loggedIn: boolean): Promise<HttpResponse> {
    const p = req.path
    if (p === "/api/history" || p.indexOf("/api/logs") === 0) {
        if (req.method !== "GET" && req.method !== "HEAD") return problem(405, "GET only")
        if (p === "/api/history")
            return { status: 200, type: "application/octet-stream", body: "", stream: async (w: BodyWriter) => await writeHistory(async (b: Buffer) => await w.write(b)) }
        const parts = splitText(p, "/") // "", "api", "logs", kind, name
        if (parts.length === 3) return await logList()
        return await logFile(parts[3], parts.length === 5 ? parts[4] : "")
    }
    if (p !== "/api/backup") return null
    if (!loggedIn) return problem(401, "log in first")
    if (req.method !== "POST") return problem(405, "POST only (the settings without passwords: GET /api/settings)")
    // with the secrets (Wi-Fi, MQTT and FTP passwords) only after the admin password again
    if (!body || typeof body.password !== "string" || passwordHash(body.password) !== setting("admin.pass")) return problem(403, "wrong admin password")
    const settings: Record<string, any> = {}
    for (const f of fields()) if (f.id !== "admin.pass") settings[f.id] = setting(f.id)
    return json(200, { format: BACKUP_FORMAT, schema: SCHEMA_VERSION, firmware: FIRMWARE_VERSION, secrets: true, settings })
}
