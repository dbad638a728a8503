// The JSON API behind the pages (docs/api.md). Reading the status is public; everything that changes
// something needs a session (login with the admin password).
import * as ds from "@devicescript/core"
import { BmsPoller } from "../bms/poller"
import { bmsLink, currentSnapshot, lastSnapshot, pollingPaused } from "../bms/store"
import { FIRMWARE_VERSION } from "../firmware"
import { networkState } from "../net/wifi"
import { wallClock } from "../platform/clock"
import { SCHEMA_TABLE } from "../settings/schema"
import { publicSettings, setting, updateSettings } from "../settings/store"
import { bootResetCounter, factoryResetAndRestart } from "../boot/start"
import { checkNewPassword, endAllSessions, lockedFor, login, logout, newSession, passwordHash, passwordSet, validSession } from "./auth"
import { cookie, HttpRequest, HttpResponse, json, jsonStream, problem } from "./http"
import { statusJson } from "./status"
import { handleDataApi } from "./data-api"
import { splitText } from "../platform/text"
import { journalJson } from "../journal/store"
import { sdStatus } from "../sdlog/logger"
import { periodicResetStatus } from "../maintenance/periodic-reset"
import { ftpStatus, resendFrom, triggerUpload } from "../ftp/uploader"
import { mqttStatus } from "../mqtt/uplink"

export const SESSION_COOKIE = "sid"

function sessionOf(req: HttpRequest) {
    const bearer = req.headers["authorization"] || ""
    if (bearer.indexOf("Bearer ") === 0) return bearer.slice(7)
    return cookie(req.headers, SESSION_COOKIE)
}

/** The body of a plain success (JSON.stringify'd at once by json(): one object serves every answer). */
const OK = { ok: true }

/** A success that opens a session (its cookie). */
function withSession(token: string): HttpResponse {
    const r = json(200, OK)
    r.headers = { "Set-Cookie": `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict` }
    return r
}

function parseBody(req: HttpRequest): any {
    if ((req.headers["content-type"] || "").indexOf("application/json") !== 0) return undefined
    try {
        return JSON.parse(req.body)
    } catch (e) {
        return undefined
    }
}

export function deviceInfo() {
    const net = networkState()
    return {
        id: ds.deviceIdentifier("self"),
        firmware: FIRMWARE_VERSION,
        uptime_s: Math.floor(ds.millis() / 1000),
        mode: net.mode,
        ip: net.ip,
        hostname: setting("wifi.host") as string,
        reset_counter: bootResetCounter,
    }
}

async function runAction(poller: BmsPoller, body: any): Promise<HttpResponse> {
    const action = body ? body.action : undefined
    if (action === "charge_mos" || action === "discharge_mos") {
        if (typeof body.on !== "boolean") return problem(400, "on must be true or false")
        const ok = await poller.setSwitch(action === "charge_mos" ? "chg" : "dsg", body.on)
        return ok ? json(200, OK) : problem(503, "the BMS did not confirm the command")
    }
    if (action === "set_soc") {
        if (typeof body.soc !== "number" || !(body.soc >= 0 && body.soc <= 100)) return problem(400, "soc must be a number from 0 to 100")
        const clock = await wallClock()
        if (!clock) return problem(503, "the clock is not set; the BMS takes SOC and clock together")
        return (await poller.setSoc(body.soc, clock)) ? json(200, OK) : problem(503, "the BMS did not confirm the command")
    }
    if (action === "ftp_send_now") {
        triggerUpload()
        return json(202, OK)
    }
    if (action === "ftp_resend") {
        const from = typeof body.from === "string" ? splitText(body.from, "-").join("") : ""
        if (from.length !== 8 || !(parseInt(from) > 20000000)) return problem(400, "from must be a date, YYYY-MM-DD")
        await resendFrom(from)
        return json(200, { ok: true, from })
    }
    if (action === "reboot") {
        console.log("Web: reboot requested")
        setTimeout(() => ds.reboot(), 300) // a chip reset (software), after the answer has gone out
        return json(202, OK)
    }
    if (action === "factory_reset") {
        console.log("Web: factory reset requested")
        setTimeout(factoryResetAndRestart, 300)
        return json(202, OK)
    }
    return problem(400, "unknown action", { actions: ["charge_mos", "discharge_mos", "set_soc", "reboot", "factory_reset", "ftp_send_now", "ftp_resend"] })
}

/** Routes an /api request. */
export async function handleApi(req: HttpRequest, poller: BmsPoller): Promise<HttpResponse> {
    const p = req.path
    const get = req.method === "GET" || req.method === "HEAD"
    const post = req.method === "POST"
    const data = await handleDataApi(req, parseBody(req), p === "/api/backup" && validSession(sessionOf(req)))
    if (data) return data
    // the method each public route takes (` /api/x ` never matches a path with a space in it: none has)
    if (!get && " /api/status /api/journal /api/session /api/schema ".indexOf(` ${p} `) >= 0) return problem(405, "GET only")
    if (p === "/api/status") {
        const st = statusJson(deviceInfo(), bmsLink, pollingPaused, currentSnapshot(), lastSnapshot, ds.millis())
        st["battery"] = { serial: setting("user.serial"), location: setting("user.location") }
        const sd = sdStatus
        st["sd"] = { state: sd.state, last_row: sd.lastRow, rows: sd.rows }
        st["periodic_reset"] = await periodicResetStatus()
        const ftp = ftpStatus
        st["ftp"] = { state: ftp.state, last_login: ftp.lastLogin, last_success: ftp.lastSuccess, last_error: ftp.lastError }
        const mq = mqttStatus
        st["mqtt"] = { state: mq.state, last_error: mq.lastError }
        return jsonStream(200, st, 2)
    }
    if (p === "/api/journal") {
        return json(200, journalJson())
    }
    if (p === "/api/session") {
        return json(200, { logged_in: validSession(sessionOf(req)), password_set: passwordSet(), mode: networkState().mode })
    }
    if (p === "/api/setup") {
        if (!post) return problem(405, "POST only")
        if (passwordSet()) return problem(403, "the admin password is already set; log in")
        if (networkState().mode !== "ap") return problem(403, "the first setup is done in access point mode (press reset 3 times)")
        const body = parseBody(req)
        const bad = checkNewPassword(body ? body.password : undefined)
        if (bad) return problem(400, "invalid password", { errors: { password: bad } })
        await updateSettings({ "admin.pass": passwordHash(body.password) })
        console.log("Web: admin password set")
        return withSession(newSession())
    }
    if (p === "/api/login") {
        if (!post) return problem(405, "POST only")
        const wait = lockedFor()
        if (wait) {
            const r = problem(429, "too many failed logins; try again later")
            r.headers = { "Retry-After": "" + Math.ceil(wait / 1000) }
            return r
        }
        const body = parseBody(req)
        const token = login(body ? body.password : undefined)
        if (!token) return problem(401, passwordSet() ? "wrong password" : "no admin password set yet: do the first setup")
        return withSession(token)
    }
    if (p === "/api/schema") {
        // the settings table itself (schema.ts), as it is in flash: no copy of it made on the heap
        return { status: 200, type: "application/json", body: SCHEMA_TABLE }
    }
    if (p !== "/api/settings" && p !== "/api/action" && p !== "/api/password" && p !== "/api/logout") return problem(404, "no such API")
    // everything below changes something or shows settings: a session is required
    const token = sessionOf(req)
    if (!validSession(token)) return problem(401, "log in first")
    if (!post && p !== "/api/settings") return problem(405, "POST only")
    if (p === "/api/logout") {
        logout(token)
        return json(200, OK)
    }
    if (p === "/api/settings") {
        if (get) return json(200, publicSettings())
        if (!post) return problem(405, "GET or POST")
        const body = parseBody(req)
        if (!body || typeof body !== "object") return problem(400, "a JSON object of settings is expected")
        if (body["admin.pass"] !== undefined) return json(400, { error: "invalid settings", errors: { "admin.pass": "use /api/password" } })
        const errors = await updateSettings(body)
        if (Object.keys(errors).length) return json(400, { error: "invalid settings", errors })
        console.log(`Web: settings changed: ${Object.keys(body).join(", ")}`)
        return json(200, { ok: true, restart_needed: true })
    }
    if (p === "/api/password") {
        const body = parseBody(req)
        const bad = checkNewPassword(body ? body.password : undefined)
        if (bad) return json(400, { error: "invalid password", errors: { password: bad } })
        await updateSettings({ "admin.pass": passwordHash(body.password) })
        endAllSessions()
        return withSession(newSession())
    }
    return await runAction(poller, parseBody(req))
}
