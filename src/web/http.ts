// HTTP/1.1 request heads and responses (RFC 9110/9112), within the limits of a 64 KB device. Pure.
import { splitText } from "../platform/text"
export const MAX_HEAD_BYTES = 2048
export const MAX_BODY_BYTES = 2048
/** Announced to clients: the server closes an idle connection after this (server.ts IDLE_TIMEOUT_MS). */
export const KEEP_ALIVE_S = 5

export interface HttpRequest {
    method: string
    path: string
    query: string
    headers: Record<string, string>
    body: string
    keepAlive: boolean
    remote: string
}

/** Where a streamed body goes (stream.ts): pieces are gathered into packets of a few hundred bytes. */
export interface BodyWriter {
    write(data: Buffer | string): Promise<void>
}

export interface HttpResponse {
    status: number
    type: string
    body: string | Buffer
    headers?: Record<string, string>
    /** A body made while it is sent, chunked (files, listings, metrics): `body` is then ignored. */
    stream?: (w: BodyWriter) => Promise<void>
    /** the stream writes out an object it holds (not a file): sent under the answer lock */
    held?: boolean
}

/** Reason phrases, looked up in the string when needed: no bytecode and no heap for a table. */
const REASONS =
    "|200 OK|202 Accepted|204 No Content|304 Not Modified|400 Bad Request|401 Unauthorized|403 Forbidden|404 Not Found" +
    "|405 Method Not Allowed|408 Request Timeout|411 Length Required|413 Content Too Large|429 Too Many Requests" +
    "|431 Request Header Fields Too Large|500 Internal Server Error|503 Service Unavailable|505 HTTP Version Not Supported|"

export function reason(status: number) {
    const at = REASONS.indexOf(`|${status} `)
    return at < 0 ? "Status" : REASONS.slice(at + 5, REASONS.indexOf("|", at + 1))
}

/**
 * The request headers the server reads; the others are dropped as the head is parsed: a browser
 * sends a dozen more (user agent, client hints...), about 700 bytes of heap per waiting request.
 */
const USED_HEADERS = " content-length content-type cookie authorization if-none-match connection transfer-encoding "

/** Parses a request head (without the final CRLF CRLF); returns the request or an error status. */
export function parseHead(head: string): { request: HttpRequest; status: number } {
    const lines = splitText(head, "\r\n")
    const parts = splitText(lines[0], " ")
    if (parts.length !== 3 || !parts[0] || parts[1].charAt(0) !== "/") return { request: null, status: 400 }
    if (parts[2] !== "HTTP/1.1" && parts[2] !== "HTTP/1.0") return { request: null, status: parts[2].indexOf("HTTP/") === 0 ? 505 : 400 }
    const headers: Record<string, string> = {}
    for (let i = 1; i < lines.length; i++) {
        const colon = lines[i].indexOf(":")
        if (colon <= 0) return { request: null, status: 400 }
        const name = lines[i].slice(0, colon).trim().toLowerCase()
        if (USED_HEADERS.indexOf(` ${name} `) >= 0) headers[name] = lines[i].slice(colon + 1).trim()
    }
    const target = parts[1]
    const q = target.indexOf("?")
    const connection = (headers["connection"] || "").toLowerCase()
    return {
        request: {
            method: parts[0],
            path: q < 0 ? target : target.slice(0, q),
            query: q < 0 ? "" : target.slice(q + 1),
            headers,
            body: "",
            keepAlive: parts[2] === "HTTP/1.1" ? connection !== "close" : connection === "keep-alive",
            remote: "",
        },
        status: 0,
    }
}

/** The value of a cookie in a Cookie header, or "". */
export function cookie(headers: Record<string, string>, name: string) {
    const all = headers["cookie"] || ""
    for (const part of splitText(all, ";")) {
        const eq = part.indexOf("=")
        if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
    }
    return ""
}

const SECURITY_HEADERS =
    "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n" +
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'\r\n"

/**
 * The head of a response (status line and headers, up to the empty line); `keepAlive` false adds
 * Connection: close. The body is sent apart: no copy of head and body together is made. A streamed
 * body (stream.ts) is sent chunked.
 */
export function responseHead(res: HttpResponse, bodyLength: number, keepAlive: boolean) {
    let h = `HTTP/1.1 ${res.status} ${reason(res.status)}\r\n`
    h += `Content-Type: ${res.type}\r\n` + (res.stream ? "Transfer-Encoding: chunked\r\n" : `Content-Length: ${bodyLength}\r\n`)
    h += keepAlive ? `Connection: keep-alive\r\nKeep-Alive: timeout=${KEEP_ALIVE_S}\r\n` : "Connection: close\r\n"
    if (res.headers) for (const k of Object.keys(res.headers)) h += `${k}: ${res.headers[k]}\r\n`
    if (!res.headers || !res.headers["Cache-Control"]) h += "Cache-Control: no-store\r\n"
    return h + SECURITY_HEADERS + "\r\n"
}

export function json(status: number, value: any): HttpResponse {
    return { status, type: "application/json", body: JSON.stringify(value) }
}

/**
 * A JSON answer sent as it is written (chunked): objects down to `depth` levels key by key, their
 * other values whole; a function value writes itself (its JSON text) to the writer. No answer in one string: the status (about 2 KB) needed a block that large of
 * a fragmented 64 KB heap.
 */
export function jsonStream(status: number, value: any, depth: number): HttpResponse {
    return { status, type: "application/json", body: "", stream: async (w: BodyWriter) => await writeJson(w, value, depth), held: true }
}

async function writeJson(w: BodyWriter, value: any, depth: number) {
    if (typeof value === "function") return await value(w) // a value that writes itself
    if (depth <= 0 || typeof value !== "object" || !value) return await w.write(JSON.stringify(value))
    let sep = "{"
    for (const k of Object.keys(value)) {
        await w.write(`${sep}"${k}":`) // our own field names: nothing to escape
        await writeJson(w, value[k], depth - 1)
        sep = ","
    }
    await w.write(sep === "," ? "}" : "{}")
}

export function problem(status: number, message: string, extra?: Record<string, any>): HttpResponse {
    const o: Record<string, any> = { error: message }
    if (extra) for (const k of Object.keys(extra)) o[k] = extra[k]
    return json(status, o)
}
