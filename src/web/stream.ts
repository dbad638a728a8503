// Streamed response bodies (files of the SD card, listings, /metrics): made while they are sent, so
// a 2 MB log file never needs 2 MB of heap. Pieces are gathered up to STREAM_PACKET_BYTES, then
// written as one chunk (chunked transfer coding, RFC 9112 section 7.1).
// (Closures here, not a class: DeviceScript 2.16.4's verifier rejected the class and a spread
// Buffer.concat in this place.)
import { SocketFailure, TcpConnection } from "../platform/stream-sockets"
import { BodyWriter, HttpRequest, HttpResponse, responseBytes } from "./http"

export const STREAM_PACKET_BYTES = 896

const HEX = "0123456789abcdef"

export function hex(n: number) {
    let s = HEX.charAt(n & 15)
    for (n = n >> 4; n > 0; n = n >> 4) s = HEX.charAt(n & 15) + s
    return s
}

/**
 * Writes a response: its head, then its body (not copied into one buffer with the head: the heap is
 * small) or its stream. Returns false when a streamed body broke
 * off: the connection must close then (the client sees a short body, never a wrong one).
 */
export async function writeResponse(conn: TcpConnection, req: HttpRequest, res: HttpResponse) {
    const head = req.method === "HEAD"
    await conn.write(responseBytes(res, req.keepAlive, true)) // the head alone: a page's 7 KB is not copied
    if (head) return true
    if (!res.stream) {
        if (res.body.length) await conn.write(res.body)
        return true
    }
    let parts: Buffer[] = []
    let size = 0
    const flush = async () => {
        if (!size) return
        let body = parts[0]
        for (let i = 1; i < parts.length; i++) body = body.concat(parts[i])
        const packet = Buffer.concat(Buffer.from(hex(size) + "\r\n"), body, Buffer.from("\r\n"))
        parts = []
        size = 0
        await conn.write(packet)
    }
    const w: BodyWriter = {
        write: async (data: Buffer | string) => {
            const b = typeof data === "string" ? Buffer.from(data) : data
            parts.push(b)
            size += b.length
            if (size >= STREAM_PACKET_BYTES) await flush()
        },
    }
    try {
        await res.stream(w)
        await flush()
    } catch (e) {
        if (e instanceof SocketFailure) throw e
        console.warn(`Web: ${(e as Error).message}: answer cut short`)
        return false
    }
    await conn.write("0\r\n\r\n")
    return true
}
