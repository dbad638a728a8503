// Streamed response bodies (files of the SD card, listings, /metrics): made while they are sent, so
// a 2 MB log file never needs 2 MB of heap. Pieces are gathered up to STREAM_PACKET_BYTES, then
// written as one chunk (chunked transfer coding, RFC 9112 section 7.1).
// (Closures here, not a class: DeviceScript 2.16.4's verifier rejected the class and a spread
// Buffer.concat in this place.)
import { MAX_DATA, SocketFailure, TcpConnection } from "../platform/stream-sockets"
import { BodyWriter, HttpResponse } from "./http"

export const STREAM_PACKET_BYTES = 896

const HEX = "0123456789abcdef"


/**
 * Sends a streamed body after its head (server.ts), chunked. Returns false when it broke off: the
 * connection must close then (the client sees a short body, never a wrong one).
 */
export async function sendStream(conn: TcpConnection, res: HttpResponse, what: string) {
    let parts: Buffer[] = []
    let size = 0
    const flush = async () => {
        if (!size) return
        const pieces = parts
        // the chunk size in 3 hex digits (leading zeros are allowed): a chunk stays under 4 KB
        const head = HEX.charAt(size >> 8) + HEX.charAt((size >> 4) & 15) + HEX.charAt(size & 15) + "\r\n"
        parts = []
        size = 0
        // piece by piece: no copy of the chunk in one buffer (the heap is small)
        await conn.write(head)
        for (const p of pieces) await conn.write(p)
        await conn.write("\r\n")
    }
    const w: BodyWriter = {
        write: async (data: Buffer | string) => {
            const b = typeof data === "string" ? Buffer.from(data) : data
            // small pieces (a JSON key, a metric) joined up to a packet: one write each would cost a packet each
            const last = parts.length - 1
            if (last >= 0 && parts[last].length + b.length <= MAX_DATA) parts[last] = parts[last].concat(b)
            else parts.push(b)
            size += b.length
            if (size >= STREAM_PACKET_BYTES) await flush()
        },
    }
    try {
        await res.stream(w)
        await flush()
    } catch (e) {
        if (e instanceof SocketFailure) throw e
        console.warn(`Web: ${what}: ${(e as Error).message}: answer cut short`)
        return false
    }
    await conn.write("0\r\n\r\n")
    return true
}
