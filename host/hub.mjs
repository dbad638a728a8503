// A private Jacdac bus hub for one dongle: a loopback TCP server on an ephemeral port that forwards
// every frame to every other connection. Frame format (as DeviceScript's --tcp transport): a length
// byte, or 0xFF and a 16-bit little-endian length, then the frame.
import net from "node:net"

export class JacdacHub {
    constructor() {
        this.connections = new Set()
        this.server = net.createServer(sock => this.accept(sock))
    }

    async start() {
        await new Promise((resolve, reject) => {
            this.server.once("error", reject)
            this.server.listen(0, "127.0.0.1", resolve)
        })
        this.port = this.server.address().port
        return this.port
    }

    accept(sock) {
        this.connections.add(sock)
        sock.setNoDelay(true)
        let acc = Buffer.alloc(0)
        sock.on("data", data => {
            acc = acc.length ? Buffer.concat([acc, data]) : data
            for (;;) {
                let header = 1
                let length = acc[0]
                if (acc.length < 1) break
                if (length === 0xff) {
                    if (acc.length < 3) break
                    length = acc.readUInt16LE(1)
                    header = 3
                }
                if (acc.length < header + length) break
                const frame = acc.subarray(0, header + length)
                acc = acc.subarray(header + length)
                for (const other of this.connections) if (other !== sock && !other.destroyed) other.write(frame)
            }
        })
        sock.on("error", () => {})
        sock.on("close", () => this.connections.delete(sock))
    }

    async close() {
        for (const c of this.connections) c.destroy()
        await new Promise(resolve => this.server.close(() => resolve()))
    }
}
