// Jacdac frames on a byte stream, as DeviceScript's --tcp transport frames them: a length byte, or
// 0xFF and a 16-bit little-endian length, then the frame. Shared by both ends of the VM link
// (host/vm-link.mjs in the host, host/vm-child.cjs in the VM process); no dependencies, so that
// the VM process stays small.
"use strict"

/** Splits a byte stream into frames; calls onFrame(frame) for each whole one. */
function frameReader(onFrame) {
    let acc = null
    return data => {
        const buf = acc ? Buffer.concat([acc, data]) : data
        acc = null
        let off = 0
        for (;;) {
            if (buf.length - off < 1) break
            let header = 1
            let length = buf[off]
            if (length === 0xff) {
                if (buf.length - off < 3) break
                length = buf.readUInt16LE(off + 1)
                header = 3
            }
            if (buf.length - off < header + length) break
            onFrame(buf.subarray(off + header, off + header + length))
            off += header + length
        }
        if (off < buf.length) acc = Buffer.from(buf.subarray(off))
    }
}

/** One frame with its length header. */
function framed(frame) {
    const long = frame.length >= 0xff
    const out = Buffer.allocUnsafe((long ? 3 : 1) + frame.length)
    if (long) {
        out[0] = 0xff
        out.writeUInt16LE(frame.length, 1)
    } else out[0] = frame.length
    out.set(frame, long ? 3 : 1)
    return out
}

/** Writes frames to a socket, those of one event-loop turn in one write (corked until the next tick). */
function frameWriter(sock) {
    let corked = false
    return frame => {
        if (!corked) {
            corked = true
            sock.cork()
            process.nextTick(() => {
                corked = false
                sock.uncork()
            })
        }
        sock.write(framed(frame))
    }
}

module.exports = { frameReader, framed, frameWriter }
