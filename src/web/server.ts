// The HTTP/1.1 server of the pages and the API on the stream-socket contract (port ports.web,
// default 6789, never 80). Limits: request head MAX_HEAD_BYTES (431), body MAX_BODY_BYTES (413),
// MAX_ACTIVE connections at once (503 beyond), IDLE_TIMEOUT_MS without a request (closed).
import * as ds from "@devicescript/core"
import { BmsPoller } from "../bms/poller"
import { setting } from "../settings/store"
import { serveTcp, SocketFailure, TcpConnection } from "../platform/stream-sockets"
import { handleApi } from "./api"
import { handleMetrics, METRICS_PATH } from "./metrics-route"
import { writeResponse } from "./stream"
import { ASSETS } from "./assets.generated"
import { HttpRequest, HttpResponse, MAX_BODY_BYTES, MAX_HEAD_BYTES, parseHead, problem, responseBytes } from "./http"

/** Browsers keep up to 6 connections per host: fewer would turn their own requests away. */
export const MAX_ACTIVE = 6
export const BACKLOG = 8
export const IDLE_TIMEOUT_MS = 5000

let active = 0

interface Incoming {
    request: HttpRequest
    status: number
}

/** Reads one request; null when the connection closed or idled out before one began. */
async function readRequest(conn: TcpConnection): Promise<Incoming> {
    let acc: Buffer = null
    let end = -1
    while (end < 0) {
        const b = await conn.read(IDLE_TIMEOUT_MS)
        if (!b) return acc ? { request: null, status: 400 } : null
        acc = acc ? acc.concat(b) : b
        for (let i = 3; i < acc.length && end < 0; i++) if (acc[i] === 10 && acc[i - 1] === 13 && acc[i - 2] === 10 && acc[i - 3] === 13) end = i - 3
        if (end < 0 && acc.length > MAX_HEAD_BYTES) return { request: null, status: 431 }
    }
    if (end > MAX_HEAD_BYTES) return { request: null, status: 431 }
    const parsed = parseHead(acc.slice(0, end).toString())
    if (!parsed.request) return { request: null, status: parsed.status }
    const req = parsed.request
    req.remote = conn.remoteAddress
    if (req.headers["transfer-encoding"]) return { request: null, status: 411 }
    const length = req.headers["content-length"] ? parseInt(req.headers["content-length"]) : 0
    if (!(length >= 0)) return { request: null, status: 400 }
    if (length > MAX_BODY_BYTES) return { request: null, status: 413 }
    let body = acc.slice(end + 4)
    while (body.length < length) {
        const b = await conn.read(IDLE_TIMEOUT_MS)
        if (!b) return { request: null, status: 408 }
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

async function respond(req: HttpRequest, poller: BmsPoller): Promise<HttpResponse> {
    if (req.path.indexOf("/api/") === 0) return await handleApi(req, poller)
    if (req.path === METRICS_PATH) return await handleMetrics(req)
    return asset(req)
}

async function serve(conn: TcpConnection, poller: BmsPoller) {
    active++
    try {
        if (active > MAX_ACTIVE) {
            await conn.write(responseBytes(problem(503, "busy: too many connections"), false, false))
            return
        }
        for (;;) {
            const incoming = await readRequest(conn)
            if (!incoming) break
            if (!incoming.request) {
                await conn.write(responseBytes(problem(incoming.status, "bad request"), false, false))
                break
            }
            const req = incoming.request
            let res: HttpResponse
            try {
                res = await respond(req, poller)
            } catch (e) {
                console.warn(`Web: ${req.method} ${req.path}: ${(e as Error).message}`)
                res = problem(500, "internal error")
            }
            const whole = await writeResponse(conn, req, res)
            if (!whole || !req.keepAlive) break
        }
    } catch (e) {
        if (!(e instanceof SocketFailure)) console.warn(`Web: ${conn.remoteAddress}: ${(e as Error).message}`)
        // a SocketFailure: the client went away; nothing to answer
    } finally {
        active--
        await conn.close()
    }
}

export async function startWeb(poller: BmsPoller) {
    const port = setting("ports.web") as number
    await serveTcp("web connection", port, BACKLOG, async (conn: TcpConnection) => await serve(conn, poller))
    console.log(`Web: port ${port}`)
}
