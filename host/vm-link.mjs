// The Jacdac link between the host's bus and its DeviceScript VM process: a loopback TCP server on an
// ephemeral port that the VM process dials (host/vm-child.cjs), and a jacdac-ts transport of the
// host's bus on the other end. Frames go straight from one to the other, with no hub in between.
// Frames on the socket as host/frames.cjs writes them; those of one event-loop turn leave in one
// write (a VM turn often answers with several).
import net from "node:net"
import { createRequire } from "node:module"
import { jd } from "./services/jacdac.mjs"

const { frameReader, frameWriter } = createRequire(import.meta.url)("./frames.cjs")

class VmLinkTransport extends jd.Transport {
    constructor(link) {
        super("vm-link")
        this.link = link
    }
    transportConnectAsync() {
        return Promise.resolve()
    }
    transportSendPacketAsync(frame) {
        this.link.send(frame)
        return Promise.resolve()
    }
    transportDisconnectAsync() {
        return Promise.resolve()
    }
}

export class VmLink {
    constructor() {
        this.vm = null // the socket of the running VM process
        this.write = null
        this.server = net.createServer(sock => this.accept(sock))
        /** the host bus's end: new jd.JDBus([link.transport], ...) */
        this.transport = new VmLinkTransport(this)
    }

    /** Listens on a free loopback port; returns it (the VM process dials it). */
    async start() {
        await new Promise((resolve, reject) => {
            this.server.once("error", reject)
            this.server.listen(0, "127.0.0.1", resolve)
        })
        this.port = this.server.address().port
        return this.port
    }

    accept(sock) {
        this.vm?.destroy() // a VM process after a reset: the old one is gone
        this.vm = sock
        this.write = frameWriter(sock)
        sock.setNoDelay(true)
        sock.on("data", frameReader(frame => this.transport.handleFrame(new Uint8Array(frame))))
        sock.on("error", () => {})
        sock.on("close", () => {
            if (this.vm === sock) {
                this.vm = null
                this.write = null
            }
        })
    }

    /** A frame from the host's bus to the VM (dropped while no VM runs: the chip is in reset). */
    send(frame) {
        if (this.vm && !this.vm.destroyed) this.write(frame)
    }

    async close() {
        this.vm?.destroy()
        await new Promise(resolve => this.server.close(() => resolve()))
    }
}
