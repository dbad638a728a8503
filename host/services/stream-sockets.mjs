// Host implementation of services/streamsockets.md on Node's net and dgram.
import net from "node:net"
import dgram from "node:dgram"
import { jd, ReportQueue } from "./jacdac.mjs"

export const STREAM_SOCKETS_CLASS = 0x1b6e3c57
export const MAX_SOCKETS = 24
export const MAX_DATA = 233
export const RECEIVE_WINDOW = 2
export const RETRANSMIT_MS = 1000
export const MAX_DATAGRAM = 1472
const DATAGRAM_FRAGMENT = 228
const WRITE_CREDIT = 4
const CONNECT_TIMEOUT_MS = 10_000

const CMD = { listen: 0x80, connect: 0x81, udpBind: 0x82, write: 0x83, sendTo: 0x84, ack: 0x85, close: 0x86, resetAll: 0x87 }
const REP = { opened: 0x90, accepted: 0x91, data: 0x92, datagram: 0x93, written: 0x94, closed: 0x95 }
export const SocketError = {
    None: 0, Refused: 1, Unreachable: 2, Timeout: 3, AddressInUse: 4, PermissionDenied: 5, Reset: 6,
    TooManySockets: 7, BadSocket: 8, DataLost: 9, BadArgument: 10, IoError: 11,
}

function errorCode(e) {
    switch (e?.code) {
        case "ECONNREFUSED": return SocketError.Refused
        case "ENOTFOUND": case "EAI_AGAIN": case "EHOSTUNREACH": case "ENETUNREACH": return SocketError.Unreachable
        case "ETIMEDOUT": return SocketError.Timeout
        case "EADDRINUSE": return SocketError.AddressInUse
        case "EACCES": case "EPERM": return SocketError.PermissionDenied
        case "ECONNRESET": case "EPIPE": return SocketError.Reset
        default: return SocketError.IoError
    }
}

const ipv4Bytes = addr => {
    const m = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr ?? "")
    return new Uint8Array(m ? [+m[1], +m[2], +m[3], +m[4]] : [0, 0, 0, 0])
}
const seqBefore = (a, b) => ((b - a) & 0xffff) !== 0 && ((b - a) & 0xffff) < 0x8000 // a comes before b

export class StreamSocketsServer extends jd.JDServiceServer {
    /**
     * @param {object} o
     * @param {Record<number, number>} [o.portMap] program port → host port (0: any free port)
     * @param {string} [o.listenAddress] where listening and UDP sockets bind
     * @param {(msg:string)=>void} [o.log] host messages (stderr)
     */
    constructor({ portMap = {}, listenAddress = "127.0.0.1", log = () => {} } = {}) {
        super(STREAM_SOCKETS_CLASS)
        this.portMap = portMap
        this.listenAddress = listenAddress
        this.log = log
        this.sockets = new Map()
        this.boundPorts = new Map() // program port → actual host port
        this.reports = new ReportQueue(this)
        this.addRegister(0x180, [MAX_SOCKETS])
        this.addRegister(0x181, [MAX_DATA])
        this.addRegister(0x182, [RECEIVE_WINDOW])
        this.addRegister(0x183, [RETRANSMIT_MS])
        this.addRegister(0x184, [MAX_DATAGRAM])
        this.addCommand(CMD.listen, p => this.onListen(p.data))
        this.addCommand(CMD.connect, p => this.onConnect(p.data))
        this.addCommand(CMD.udpBind, p => this.onUdpBind(p.data))
        this.addCommand(CMD.write, p => this.onWrite(p.data))
        this.addCommand(CMD.sendTo, p => this.onSendTo(p.data))
        this.addCommand(CMD.ack, p => this.onAck(p.data))
        this.addCommand(CMD.close, p => this.onClose(p.data))
        this.addCommand(CMD.resetAll, () => this.closeAll())
        this.retransmitTimer = setInterval(() => this.retransmit(), RETRANSMIT_MS / 2)
        this.retransmitTimer.unref()
    }

    /** The host port serving a program port (after --port-map), once it is bound. */
    hostPort(programPort) {
        return this.boundPorts.get(programPort)
    }

    mapPort(port) {
        return Object.prototype.hasOwnProperty.call(this.portMap, port) ? this.portMap[port] : port
    }

    closed(id, error, message) {
        this.reports.send(REP.closed, "u16 u8 s", [error, id, message])
    }

    /** Validates a client-chosen socket number; reports `closed` when it cannot be used. */
    claim(id) {
        if (!(id >= 1 && id <= 127) || this.sockets.has(id)) {
            this.closed(id, SocketError.BadSocket, `socket ${id} is out of range or in use`)
            return false
        }
        if (this.sockets.size >= MAX_SOCKETS) {
            this.closed(id, SocketError.TooManySockets, `no free socket (at most ${MAX_SOCKETS})`)
            return false
        }
        return true
    }

    bindError(id, port, hostPort, e) {
        let msg = `cannot bind port ${port}: ${e.message}`
        if (errorCode(e) === SocketError.PermissionDenied) {
            msg = `port ${hostPort} needs privileges on this computer; run the host runtime with --port-map ${port}=${port + 1000} (or as root)`
            this.log(msg)
        } else if (errorCode(e) === SocketError.AddressInUse) {
            msg = `port ${hostPort} is already in use on this computer; free it or use --port-map ${port}=OTHER`
            this.log(msg)
        }
        this.sockets.delete(id)
        this.closed(id, errorCode(e), msg)
    }

    onListen(data) {
        const [port, id, backlog] = jd.jdunpack(data, "u16 u8 u8")
        if (!this.claim(id)) return
        const hostPort = this.mapPort(port)
        const server = net.createServer({ pauseOnConnect: true })
        const entry = { kind: "listener", server, port, backlog: backlog || 4, children: new Set() }
        this.sockets.set(id, entry)
        server.on("error", e => {
            if (this.sockets.get(id) === entry) this.bindError(id, port, hostPort, e)
        })
        server.on("connection", sock => this.onAccept(id, entry, sock))
        server.listen(hostPort, this.listenAddress, () => {
            this.boundPorts.set(port, server.address().port)
            if (hostPort !== port) this.log(`port ${port} of the dongle is served on ${this.listenAddress}:${server.address().port}`)
            this.reports.send(REP.opened, "b[4] u16 u8", [new Uint8Array(4), port, id])
            this.emit("listening", { port, hostPort: server.address().port })
        })
    }

    onAccept(listenerId, listener, sock) {
        if (this.sockets.get(listenerId) !== listener || listener.children.size >= listener.backlog) {
            sock.destroy()
            return
        }
        let id = 128
        while (id <= 254 && this.sockets.has(id)) id++
        if (id > 254 || this.sockets.size >= MAX_SOCKETS) {
            sock.destroy()
            return
        }
        listener.children.add(id)
        const entry = this.setupTcp(id, sock, listenerId)
        this.reports.send(REP.accepted, "b[4] u16 u8 u8", [ipv4Bytes(sock.remoteAddress), sock.remotePort, listenerId, id])
        entry.ready = true
        sock.resume()
    }

    onConnect(data) {
        const [port, id, host] = jd.jdunpack(data, "u16 u8 s")
        if (!this.claim(id)) return
        const sock = net.createConnection({ host, port })
        const entry = this.setupTcp(id, sock, 0)
        sock.setTimeout(CONNECT_TIMEOUT_MS, () => {
            if (!entry.ready) sock.destroy(Object.assign(new Error(`connect to ${host}:${port} timed out`), { code: "ETIMEDOUT" }))
        })
        sock.once("connect", () => {
            sock.setTimeout(0)
            entry.ready = true
            this.reports.send(REP.opened, "b[4] u16 u8", [ipv4Bytes(sock.remoteAddress), sock.remotePort, id])
        })
    }

    setupTcp(id, sock, listenerId) {
        const entry = {
            kind: "tcp", sock, listenerId, ready: false,
            writeSeq: 0, // next write sequence number expected from the client
            rxSeq: 0, // next data sequence number to assign
            pending: [], // received chunks not yet sent as data reports
            unacked: [], // {seq, data, sentAt}
            ending: false, error: null,
        }
        this.sockets.set(id, entry)
        sock.setNoDelay(true)
        sock.on("data", buf => {
            for (let off = 0; off < buf.length; off += MAX_DATA) entry.pending.push(buf.subarray(off, off + MAX_DATA))
            this.pump(id, entry)
        })
        sock.on("drain", () => {
            if (this.sockets.get(id) === entry)
                this.reports.send(REP.written, "u16 u8 u8", [(entry.writeSeq - 1) & 0xffff, id, WRITE_CREDIT])
        })
        sock.on("error", e => (entry.error = e))
        sock.on("close", () => {
            entry.ending = true
            this.pump(id, entry)
        })
        return entry
    }

    /** Sends pending data while the window allows; finishes a closed socket once all is out. */
    pump(id, entry) {
        if (this.sockets.get(id) !== entry) return
        while (entry.pending.length && entry.unacked.length < RECEIVE_WINDOW) {
            const data = entry.pending.shift()
            const seq = entry.rxSeq
            entry.rxSeq = (entry.rxSeq + 1) & 0xffff
            entry.unacked.push({ seq, data, sentAt: Date.now() })
            this.reports.send(REP.data, "u16 u8 b", [seq, id, data])
        }
        if (entry.pending.length) entry.sock.pause()
        else if (!entry.ending) entry.sock.resume()
        if (entry.ending && !entry.pending.length) {
            this.forget(id, entry)
            const e = entry.error
            this.closed(id, e ? errorCode(e) : SocketError.None, e ? e.message : "closed by the peer")
        }
    }

    retransmit() {
        const now = Date.now()
        for (const [id, entry] of this.sockets)
            if (entry.kind === "tcp")
                for (const u of entry.unacked)
                    if (now - u.sentAt >= RETRANSMIT_MS) {
                        u.sentAt = now
                        this.reports.send(REP.data, "u16 u8 b", [u.seq, id, u.data])
                    }
    }

    onAck(data) {
        const [seq, id] = jd.jdunpack(data, "u16 u8")
        const entry = this.sockets.get(id)
        if (entry?.kind !== "tcp") return
        entry.unacked = entry.unacked.filter(u => seqBefore(seq, u.seq))
        this.pump(id, entry)
    }

    onWrite(data) {
        const [seq, id] = jd.jdunpack(data.subarray(0, 3), "u16 u8")
        const payload = Buffer.from(data.subarray(3))
        const entry = this.sockets.get(id)
        if (entry?.kind !== "tcp" || !entry.ready) {
            if (!entry) this.closed(id, SocketError.BadSocket, `socket ${id} is not open`)
            return
        }
        if (seq !== entry.writeSeq) {
            if (seqBefore(seq, entry.writeSeq)) {
                // a retransmission of an accepted write: acknowledge again, send nothing
                this.reports.send(REP.written, "u16 u8 u8", [seq, id, WRITE_CREDIT])
                return
            }
            // an earlier write was lost on the way: drop this one, the client sends both again
            return
        }
        entry.writeSeq = (seq + 1) & 0xffff
        const ok = entry.sock.write(payload)
        this.reports.send(REP.written, "u16 u8 u8", [seq, id, ok ? WRITE_CREDIT : 0])
    }

    onUdpBind(data) {
        const [port, id] = jd.jdunpack(data, "u16 u8")
        const maxDatagram = data.length >= 6 ? jd.jdunpack(data.subarray(4), "u16")[0] || MAX_DATAGRAM : MAX_DATAGRAM
        if (!this.claim(id)) return
        const hostPort = port ? this.mapPort(port) : 0
        const udp = dgram.createSocket("udp4")
        const entry = { kind: "udp", udp, port, maxDatagram: Math.min(maxDatagram, MAX_DATAGRAM), dropped: 0 }
        this.sockets.set(id, entry)
        udp.on("error", e => {
            if (this.sockets.get(id) !== entry) return
            if (!entry.bound) return this.bindError(id, port, hostPort, e)
            this.forget(id, entry)
            this.closed(id, errorCode(e), e.message)
        })
        udp.on("message", (msg, rinfo) => {
            if (msg.length > entry.maxDatagram) {
                entry.dropped++ // larger than the program takes: it never crosses the bus
                return
            }
            const addr = ipv4Bytes(rinfo.address)
            const total = msg.length
            for (let off = 0; off === 0 || off < total; off += DATAGRAM_FRAGMENT) {
                const part = msg.subarray(off, Math.min(total, off + DATAGRAM_FRAGMENT))
                const more = off + DATAGRAM_FRAGMENT < total ? 1 : 0
                this.reports.send(REP.datagram, "b[4] u16 u8 u8 b", [addr, rinfo.port, id, more, part])
            }
        })
        udp.bind(hostPort, this.listenAddress, () => {
            entry.bound = true
            if (port) this.boundPorts.set(port, udp.address().port)
            if (port && hostPort !== port) this.log(`UDP port ${port} of the dongle is served on ${this.listenAddress}:${udp.address().port}`)
            this.reports.send(REP.opened, "b[4] u16 u8", [new Uint8Array(4), udp.address().port, id])
            this.emit("listening", { port, hostPort: udp.address().port, udp: true })
        })
    }

    onSendTo(data) {
        const [address, port, seq, id, more] = jd.jdunpack(data.subarray(0, 10), "b[4] u16 u16 u8 u8")
        const entry = this.sockets.get(id)
        if (entry?.kind !== "udp") {
            this.closed(id, SocketError.BadSocket, `socket ${id} is not a UDP socket`)
            return
        }
        const fragments = (entry.outgoing ?? []).concat([Buffer.from(data.subarray(10))])
        if (more) {
            entry.outgoing = fragments
            this.reports.send(REP.written, "u16 u8 u8", [seq, id, WRITE_CREDIT])
            return
        }
        entry.outgoing = null
        const payload = Buffer.concat(fragments).subarray(0, MAX_DATAGRAM)
        entry.udp.send(payload, port, Array.from(address).join("."), err => {
            if (err) {
                this.forget(id, entry)
                entry.udp.close()
                this.closed(id, errorCode(err), err.message)
            } else this.reports.send(REP.written, "u16 u8 u8", [seq, id, WRITE_CREDIT])
        })
    }

    onClose(data) {
        const [id] = jd.jdunpack(data, "u8")
        const entry = this.sockets.get(id)
        if (!entry) return this.closed(id, SocketError.BadSocket, `socket ${id} is not open`)
        this.destroy(id, entry)
        this.closed(id, SocketError.None, "closed")
    }

    forget(id, entry) {
        if (this.sockets.get(id) !== entry) return
        this.sockets.delete(id)
        if (entry.kind === "tcp" && entry.listenerId) this.sockets.get(entry.listenerId)?.children?.delete(id)
    }

    destroy(id, entry) {
        this.forget(id, entry)
        if (entry.kind === "tcp") entry.sock.destroy()
        else if (entry.kind === "udp") entry.udp.close()
        else if (entry.kind === "listener") {
            entry.server.close()
            for (const child of entry.children) {
                const c = this.sockets.get(child)
                if (c) {
                    this.destroy(child, c)
                    this.closed(child, SocketError.None, "listener closed")
                }
            }
        }
    }

    /**
     * Fault injection for tests: the listening socket of a program port fails (as lwIP can report an
     * error on it), with a `closed` report to the program.
     */
    failListener(programPort) {
        for (const [id, entry] of this.sockets)
            if (entry.kind === "listener" && entry.port === programPort) {
                this.destroy(id, entry)
                this.boundPorts.delete(programPort)
                this.closed(id, SocketError.IoError, "listening socket failed (injected)")
                return true
            }
        return false
    }

    /** Everything closed, no reports: the chip was reset. */
    closeAll() {
        for (const [id, entry] of [...this.sockets]) this.destroy(id, entry)
        this.sockets.clear()
        this.boundPorts.clear()
    }

    dispose() {
        clearInterval(this.retransmitTimer)
        this.closeAll()
    }
}
