// The Jacdac link between the host's bus and its DeviceScript VM (host/vm.mjs), both in the host
// runtime's process: a frame goes from one to the other as a function call, with no pipe, hub or TCP
// stack in between (the link carries about 60 frames a second while the BMS is polled). Each
// direction is queued and handed over after the current turn: the VM is never entered from inside
// one of its own calls, and the frames of one turn travel together, as they did over a wire.
import { jd } from "./services/jacdac.mjs"

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
        this.vm = null // the VM running now (none while the chip is in reset)
        this.toVm = []
        this.toBus = []
        this.flushing = false
        /** the host bus's end: new jd.JDBus([link.transport], ...) */
        this.transport = new VmLinkTransport(this)
    }

    /** A new VM runs (after a reset, the old one is gone): what was queued for the old one is dropped. */
    attach(vm) {
        this.vm = vm
        this.toVm = []
    }

    detach(vm) {
        if (this.vm !== vm) return
        this.vm = null
        this.toVm = []
        this.toBus = []
    }

    /** A frame from the host's bus to the VM (dropped while no VM runs: the chip is in reset). */
    send(frame) {
        if (!this.vm) return
        this.toVm.push(Uint8Array.from(frame))
        this.schedule()
    }

    /** A frame the VM `vm` sent (one that was stopped since says nothing more). */
    fromVm(vm, frame) {
        if (vm !== this.vm) return
        this.toBus.push(frame)
        this.schedule()
    }

    schedule() {
        if (this.flushing) return
        this.flushing = true
        setImmediate(() => this.flush())
    }

    flush() {
        this.flushing = false
        const toBus = this.toBus
        const toVm = this.toVm
        this.toBus = []
        this.toVm = []
        for (const frame of toBus) this.transport.handleFrame(frame)
        for (const frame of toVm) this.vm?.receive(frame)
    }

    close() {
        if (this.vm) this.detach(this.vm)
    }
}
