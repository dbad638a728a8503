// The HTTP/1.1 server of the pages and the API on the stream-socket contract (port ports.web,
// default 6789, never 80). Limits: request head MAX_HEAD_BYTES (431), body MAX_BODY_BYTES (413),
// MAX_ACTIVE connections at once (503 beyond), IDLE_TIMEOUT_MS without a request (closed), a request
// head whole within IDLE_TIMEOUT_MS + HEAD_TIMEOUT_MS of the previous answer (408).
import * as ds from "@devicescript/core"
import { BmsPoller } from "../bms/poller"
import { setting } from "../settings/store"
import { serveTcp, SocketFailure, TcpConnection } from "../platform/stream-sockets"
import { handleApi } from "./api"
import { handleMetrics, METRICS_PATH } from "./metrics-route"
import { sendStream } from "./stream"
import { ASSETS } from "./assets.generated"
import { HttpRequest, HttpResponse, MAX_BODY_BYTES, MAX_HEAD_BYTES, parseHead, problem, responseHead } from "./http"
import { Signal } from "../platform/signal"
import { utf8Length } from "../platform/text"

/**
 * Connections served at once. Each costs about 2-4 KB of the 64 KB heap while it is open; with 6
 * (what a browser may open) a few hostile clients ran the heap out (bench:heap, robustness test).
 * The page makes one request at a time, so 4 serve a browser and leave room for a second one.
 */
export const MAX_ACTIVE = 4
/** Connections held at once (serveTcp): MAX_ACTIVE, and one more to answer "busy" (503). */
export const BACKLOG = MAX_ACTIVE + 1
export const IDLE_TIMEOUT_MS = 5000
/** A request head must be whole this long after the idle wait for it (slow clients: 408). */
export const HEAD_TIMEOUT_MS = 10000

/** the BMS link that commands go through (one per dongle) */
let poller: BmsPoller = null
let responding = false
const responded = new Signal()

interface Incoming {
    request: HttpRequest
    status: number
}

/** A request refused before it is handled: answered with `status`. */
function refused(status: number): Incoming {
    return { request: null, status }
}

/** Reads one request; null when the connection closed or idled out before one began. */
async function readRequest(conn: TcpConnection): Promise<Incoming> {
    // the head's pieces are kept as they came and joined once, when the head is whole: no growing
    // copies (a 2 KB head would otherwise cost 12 KB of copies on a 64 KB heap)
    const pieces: Buffer[] = []
    let size = 0
    let end = -1
    let run = 0 // how much of CR LF CR LF was seen at the end of the previous pieces
    // the head must be whole by then: a client trickling a byte now and then would otherwise hold
    // one of the MAX_ACTIVE connections for good
    const deadline = ds.millis() + IDLE_TIMEOUT_MS + HEAD_TIMEOUT_MS
    while (end < 0) {
        const b = await conn.read(IDLE_TIMEOUT_MS)
        if (!b || ds.millis() > deadline) return size ? refused(408) : null
        if (!size && !(b[0] >= 65 && b[0] <= 90)) return refused(400) // not a method: garbage, nothing to keep reading for
        for (let i = 0; i < b.length && end < 0; i++) {
            run = b[i] === (run & 1 ? 10 : 13) ? run + 1 : b[i] === 13 ? 1 : 0
            if (run === 4) end = size + i - 3
        }
        pieces.push(b)
        size += b.length
        if (end < 0 && size > MAX_HEAD_BYTES) return refused(431)
    }
    if (end > MAX_HEAD_BYTES) return refused(431)
    const acc = Buffer.concat(...pieces)
    const parsed = parseHead(acc.slice(0, end).toString())
    if (!parsed.request) return refused(parsed.status)
    const req = parsed.request
    req.remote = conn.remoteAddress
    if (req.headers["transfer-encoding"]) return refused(411)
    const length = req.headers["content-length"] ? parseInt(req.headers["content-length"]) : 0
    if (!(length >= 0)) return refused(400)
    if (length > MAX_BODY_BYTES) return refused(413)
    let body = acc.slice(end + 4)
    while (body.length < length) {
        const b = await conn.read(IDLE_TIMEOUT_MS)
        if (!b) return refused(408)
        body = body.concat(b)
    }
    if (body.length > length) conn.unread(body.slice(length)) // the next pipelined request
    req.body = body.slice(0, length).toString()
    return { request: req, status: 0 }
}

function asset(req: HttpRequest): HttpResponse {
    const path = req.path === "/" ? "/index.html" : req.path
    for (const a of ASSETS)
        if (a.path === path) {
            if (req.method !== "GET" && req.method !== "HEAD") return problem(405, "GET only")
            if (req.headers["if-none-match"] === a.etag) return { status: 304, type: a.type, body: "", headers: { ETag: a.etag } }
            return { status: 200, type: a.type, body: a.gzip, headers: { "Content-Encoding": "gzip", ETag: a.etag, "Cache-Control": "no-cache", Vary: "Accept-Encoding" } }
        }
    return problem(404, "not found")
}

async function respond(req: HttpRequest): Promise<HttpResponse> {
    if (req.path.indexOf("/api/") === 0) return await handleApi(req, poller)
    if (req.path === METRICS_PATH) return await handleMetrics(req)
    return asset(req)
}

/** Characters of a body string converted at a time: a fragmented 64 KB heap has room for many small blocks, not one large. */
const SLICE = 200

/**
 * Sends a response: the head, then the body (none for HEAD), without joining them in memory and
 * without a copy of a body string in one piece (Buffer.from of the 3 KB schema ran the heap out).
 */
async function send(conn: TcpConnection, res: HttpResponse, keepAlive: boolean, headOnly: boolean) {
    const b = res.body
    const text = typeof b === "string"
    const length = text ? utf8Length(b) : b.length
    await conn.write(responseHead(res, length, keepAlive))
    if (headOnly) return
    if (!text) await conn.write(b) // an asset: straight from flash
    else for (let i = 0; i < b.length; i += SLICE) await conn.write(b.slice(i, i + SLICE))
}

/**
 * Makes and sends the answer to `req`, one at a time: what one costs in heap (the status JSON, a
 * page) is then paid once, not once per open connection. A function of its own, so that the answer
 * goes with its activation: kept in serve()'s, the last answer of every kept-alive connection stayed
 * on the heap while it waited for its next request (six connections: up to 6 × 3 KB).
 */
async function answer(conn: TcpConnection, req: HttpRequest): Promise<HttpResponse> {
    while (responding) await responded.wait(1000)
    responding = true
    try {
        let res: HttpResponse
        try {
            res = await respond(req)
        } catch (e) {
            console.warn(`Web: ${req.method} ${req.path}: ${(e as Error).message}`)
            res = problem(500, "internal error")
        }
        await send(conn, res, req.keepAlive, req.method === "HEAD")
        if (!res.stream || req.method === "HEAD") return null
        // an object being written out (the status) goes under the lock: written by several
        // connections at once, their objects filled the heap; a file after it (it holds a packet)
        if (res.held && !(await sendStream(conn, res, req.path))) throw new SocketFailure(0, "answer cut short")
        return res.held ? null : res
    } finally {
        responding = false
        responded.emit(1)
    }
}

/** `held`: connections open with this one (serveTcp); the one over MAX_ACTIVE is told "busy". */
async function serve(conn: TcpConnection, held: number) {
    try {
        if (held > MAX_ACTIVE) {
            await send(conn, problem(503, "busy: too many connections"), false, false)
            return
        }
        for (;;) {
            const incoming = await readRequest(conn)
            if (!incoming) break
            if (!incoming.request) {
                await send(conn, problem(incoming.status, "bad request"), false, false)
                break
            }
            const req = incoming.request
            const streamed = await answer(conn, req)
            // a streamed file goes out after the lock: it holds a packet, not the body
            if (streamed && !(await sendStream(conn, streamed, req.path))) break
            if (!req.keepAlive) break
        }
    } catch (e) {
        if (!(e instanceof SocketFailure)) console.warn(`Web: ${conn.remoteAddress}: ${(e as Error).message}`)
        // a SocketFailure: the client went away; nothing to answer
    }
}

export async function startWeb(bms: BmsPoller) {
    poller = bms
    const port = setting("ports.web") as number
    const listener = await serveTcp("web connection", port, BACKLOG, serve)
    console.log(`Web: port ${port}`)
    return listener
}
