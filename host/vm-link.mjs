// The Jacdac link between the host's bus and its DeviceScript VM process: a pipe (a Unix socket pair,
// the VM process's file descriptor 3) with a jacdac-ts transport of the host's bus on the host's end.
// Frames go straight from one to the other, with no hub and no TCP stack in between: over loopback
// TCP the sender pays for both ends of the stack, and the link carries about 75 frames a second
// while the BMS is polled. Frames on the pipe as host/frames.cjs writes them; those of one event-loop
// turn leave in one write (a VM turn often answers with several).
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
        this.vm = null // the pipe to the VM process
        this.running = false // the VM in it has sent its first frame
        this.write = null
        /** the host bus's end: new jd.JDBus([link.transport], ...) */
        this.transport = new VmLinkTransport(this)
    }

    /** The pipe to a new VM process (after a reset, the old one is gone). */
    attach(pipe) {
        if (this.vm && this.vm !== pipe) this.vm.destroy()
        this.vm = pipe
        this.write = frameWriter(pipe)
        // frames reach the VM once it runs (its first frame says so), as the hub sent them only to a
        // VM connected to it: what the bus says while the VM process loads is not queued for it
        this.running = false
        pipe.on("data", frameReader(frame => {
            if (this.vm === pipe) this.running = true
            this.transport.handleFrame(new Uint8Array(frame))
        }))
        pipe.on("error", () => {})
        pipe.on("close", () => {
            if (this.vm === pipe) {
                this.vm = null
                this.write = null
                this.running = false
            }
        })
    }

    /** A frame from the host's bus to the VM (dropped while no VM runs: the chip is in reset). */
    send(frame) {
        if (this.running && !this.vm.destroyed) this.write(frame)
    }

    close() {
        this.vm?.destroy()
        this.vm = null
        this.running = false
    }
}
