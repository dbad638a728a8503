// Logins and sessions of the web pages: the admin password is kept only as a SHA-256 hash salted with
// the device id; sessions are random tokens in an HttpOnly cookie; failed logins are rate-limited.
import * as ds from "@devicescript/core"
import { digest, randomBuffer } from "@devicescript/crypto"
import { setting } from "../settings/store"

export const SESSION_TTL_MS = 30 * 60 * 1000
export const MAX_SESSIONS = 4
export const MAX_FAILURES = 5
export const LOCKOUT_MS = 60000
export const MIN_PASSWORD = 8
export const MAX_PASSWORD = 64

interface Session {
    token: string
    expires: number
}

let sessions: Session[] = []
let failures = 0
let lockedUntil = 0

/** The stored form of an admin password. */
export function passwordHash(password: string) {
    return digest("sha256", ds.deviceIdentifier("self") + ":" + password).toString("hex")
}

/** null when acceptable as an admin password, else why not. */
export function checkNewPassword(p: any): string {
    if (typeof p !== "string") return "must be text"
    if (p.length < MIN_PASSWORD || p.length > MAX_PASSWORD) return `${MIN_PASSWORD} to ${MAX_PASSWORD} characters`
    return null
}

export function passwordSet() {
    return setting("admin.pass") !== ""
}

/** Milliseconds until logins are accepted again (0: now). */
export function lockedFor() {
    return Math.max(0, lockedUntil - ds.millis())
}

/** A new session token for a right password; null for a wrong one (counted for the lockout). */
export function login(password: string): string {
    if (typeof password !== "string" || !passwordSet() || passwordHash(password) !== setting("admin.pass")) {
        failures++
        if (failures >= MAX_FAILURES) {
            lockedUntil = ds.millis() + LOCKOUT_MS
            failures = 0
            console.log(`Web: ${MAX_FAILURES} failed logins; logins refused for ${LOCKOUT_MS / 1000} s`)
        }
        return null
    }
    failures = 0
    return newSession()
}

export function newSession() {
    const now = ds.millis()
    sessions = sessions.filter(s => s.expires > now)
    if (sessions.length >= MAX_SESSIONS) sessions.shift()
    const token = randomBuffer(16).toString("hex")
    sessions.push({ token, expires: now + SESSION_TTL_MS })
    return token
}

export function validSession(token: string) {
    if (!token) return false
    const now = ds.millis()
    for (const s of sessions)
        if (s.token === token && s.expires > now) {
            s.expires = now + SESSION_TTL_MS
            return true
        }
    return false
}

export function logout(token: string) {
    sessions = sessions.filter(s => s.token !== token)
}

/** After a password change every session ends. */
export function endAllSessions() {
    sessions = []
}
