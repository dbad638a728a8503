// Client of services/streamsockets.md: TCP listeners and connections and UDP endpoints, several at
// once, with in-order delivery, acknowledged writes and back-pressure. Same code on the dongle
// (native service) and on the host runtime (Node sockets).
import * as ds from "@devicescript/core"
import { startTask, onEveryReport } from "./tasks"
import { Signal } from "./signal"
import { splitText } from "./text"

/** Largest payload of one write or data packet. */
export const MAX_DATA = 233
const OPEN_TIMEOUT_MS = 15000
const RETRANSMIT_MS = 2000
const MAX_RETRANSMITS = 5
/** Datagrams kept for the program at most: the rest are dropped (and counted) on arrival. */
const MAX_QUEUED_DATAGRAMS = 4
/** Accepted connections waiting for the program at most; more are closed at once. */
const MAX_ACCEPT_QUEUE = 2
/** How often the accept loop of a server wakes without a connection (the watchdog sees it alive). */
const ACCEPT_TICK_MS = 10000
/** Writes in flight at most, whatever the server's credit: more overflow the VM's frame queue. */
const MAX_IN_FLIGHT = 2
const MAX_DATAGRAM_FRAGMENT = 226
const FIRST_CLIENT_ID = 1
const LAST_CLIENT_ID = 127

const CMD_LISTEN = 0x80
const CMD_CONNECT = 0x81
const CMD_UDP_BIND = 0x82
const CMD_WRITE = 0x83
const CMD_SEND_TO = 0x84
const CMD_ACK = 0x85
const CMD_CLOSE = 0x86
const CMD_RESET_ALL = 0x87
const REP_OPENED = 0x90
const REP_ACCEPTED = 0x91
const REP_DATA = 0x92
const REP_DATAGRAM = 0x93
const REP_WRITTEN = 0x94
const REP_CLOSED = 0x95

export const SOCKET_ERROR_NAMES = [
    "none", "refused", "unreachable", "timeout", "address_in_use", "permission_denied", "reset",
    "too_many_sockets", "bad_socket", "data_lost", "bad_argument", "io_error",
]
export const ERROR_TIMEOUT = 3

/** A socket failed: `code` is a SocketError of the contract, `message` says why. */
export class SocketFailure extends Error {
    code: number
    constructor(code: number, message: string) {
        super(`${SOCKET_ERROR_NAMES[code] || "error " + code}: ${message}`)
        this.code = code
    }
}

/** True when sequence number a comes before b (16-bit, wrapping). */
export function seqBefore(a: number, b: number) {
    const d = (b - a) & 0xffff
    return d !== 0 && d < 0x8000
}

export function formatAddress(b: Buffer, offset: number) {
    return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`
}

/** "192.168.1.5" → 4 bytes; throws on anything else. */
export function parseAddress(address: string) {
    const parts = splitText(address, ".")
    const r = Buffer.alloc(4)
    if (parts.length !== 4) throw new Error(`not an IPv4 address: ${address}`)
    for (let i = 0; i < 4; i++) {
        const n = parseInt(parts[i])
        if (!(n >= 0 && n <= 255)) throw new Error(`not an IPv4 address: ${address}`)
        r[i] = n
    }
    return r
}

interface Endpoint {
    id: number
    onOpened(address: string, port: number): void
    onClosed(code: number, message: string): void
}

let role: ds.StreamSockets = null
let ready = false
/**
 * Open sockets by number. A map, not an array: accepted connections are numbered from 128 up, and
 * an array indexed by them kept 1-2 KB of mostly empty storage on the heap for good.
 */
const endpoints: Record<string, Endpoint> = {}
let nextId = FIRST_CLIENT_ID

async function service() {
    if (!role) {
        role = new ds.StreamSockets()
        onEveryReport(role, onReport)
    }
    const deadline = ds.millis() + OPEN_TIMEOUT_MS
    while (!role.isBound) {
        if (ds.millis() > deadline) throw new SocketFailure(ERROR_TIMEOUT, "no stream socket service")
        await ds.sleep(20)
    }
    if (!ready) {
        ready = true
        // nothing opened by an earlier run of the program survives
        await role.sendCommand(CMD_RESET_ALL)
    }
    return role
}

function allocateId() {
    for (let n = 0; n < LAST_CLIENT_ID; n++) {
        const id = nextId
        nextId = nextId >= LAST_CLIENT_ID ? FIRST_CLIENT_ID : nextId + 1
        if (!endpoints[id]) return id
    }
    throw new SocketFailure(7, "all socket numbers in use")
}

async function send(code: number, payload: Buffer) {
    const r = await service()
    await r.sendCommand(code, payload)
}

/**
 * Every report is handled at once, without waiting: a flood of reports (connections opened and
 * dropped by the hundred) must not leave a waiting task, and its memory, behind each one. Commands it
 * needs (a close, an ack) go out from the control task.
 */
function onReport(pkt: ds.Packet) {
    if (!pkt.isReport) return
    const p = pkt.payload
    switch (pkt.serviceCommand) {
        case REP_OPENED: {
            const ep = endpoints[p[6]]
            if (ep) ep.onOpened(formatAddress(p, 0), p.getAt(4, "u16"))
            break
        }
        case REP_ACCEPTED: {
            const listener = endpoints[p[6]] as TcpListener
            const id = p[7]
            if (listener instanceof TcpListener) listener.onAccepted(new TcpConnection(id, formatAddress(p, 0)))
            else queueClose(id)
            break
        }
        case REP_DATA: {
            const conn = endpoints[p[2]] as TcpConnection
            if (conn instanceof TcpConnection) conn.onData(p.getAt(0, "u16"), p.slice(3))
            break
        }
        case REP_DATAGRAM: {
            const udp = endpoints[p[6]] as UdpEndpoint
            if (udp instanceof UdpEndpoint) udp.onDatagram(formatAddress(p, 0), p.getAt(4, "u16"), p[7] !== 0, p.slice(8))
            break
        }
        case REP_WRITTEN: {
            const ep = endpoints[p[2]] as SocketBase // every endpoint is one
            if (ep) ep.onWritten(p.getAt(0, "u16"), p[3])
            break
        }
        case REP_CLOSED: {
            const ep = endpoints[p[2]]
            if (ep) {
                delete endpoints[p[2]]
                ep.onClosed(p.getAt(0, "u16"), p.slice(3).toString())
            }
            break
        }
    }
}

// Acknowledgements and closes leave from a control task of their own: an awaited command costs a VM
// tick (about 20 ms on the host runtime), which would otherwise sit between every received packet and
// the program, and a report handler must never wait.
const pendingAcks: Record<string, number> = {}
const pendingCloses: number[] = []
let controlTask = false
const controlQueued = new Signal()

function startControl() {
    if (!controlTask) {
        controlTask = true
        setTimeout(async () => {
            for (;;) {
                while (pendingCloses.length) await send(CMD_CLOSE, Buffer.from([pendingCloses.shift()]))
                const ids = Object.keys(pendingAcks)
                if (!ids.length) {
                    if (!pendingCloses.length) await controlQueued.wait()
                    continue
                }
                for (const k of ids) {
                    const b = Buffer.alloc(3)
                    b.setAt(0, "u16", pendingAcks[k])
                    b[2] = parseInt(k)
                    delete pendingAcks[k]
                    await send(CMD_ACK, b)
                }
            }
        }, 0)
    }
    controlQueued.emit(1)
}

function queueAck(id: number, seq: number) {
    pendingAcks[id + ""] = seq // cumulative: the newest covers the older ones
    startControl()
}

/** Closes a socket without waiting for the answer (its number is free once the server closed it). */
function queueClose(id: number) {
    delete endpoints[id]
    delete pendingAcks[id + ""]
    if (pendingCloses.indexOf(id) < 0) pendingCloses.push(id)
    startControl()
}

/**
 * What every socket shares: its number, whether it is open, closed or failed, and the numbered
 * packets it sent that the server has not acknowledged yet (`written`; go-back-N). It is its own
 * change signal. One object a socket: a sender of its own cost another 134 B of heap for each
 * connection, a Signal of its own 86 B.
 */
class SocketBase extends Signal {
    // fields without a value are not set until they change (reading one gives undefined): each
    // field costs 16 B of heap in every socket
    protected opened: boolean
    protected closed: boolean
    protected failure: SocketFailure
    private seq = 0
    private credit = 4
    protected unacked: Buffer[] = []
    private lastProgress: number
    /** once opened: the port (UDP: the local one, as the server chose it for port 0) and address of `opened` */
    port: number
    /** TCP: the peer's address */
    remoteAddress: string

    /** `writeCode`: the command its packets go out with (write, send_to; none for a listener) */
    constructor(public readonly id: number, private readonly writeCode = 0) {
        super()
        endpoints[id] = this
    }

    onOpened(address: string, port: number) {
        this.port = port
        this.remoteAddress = address
        this.opened = true
        this.emit(1)
    }

    /** the server took every packet up to `seq`, and has room for `credit` more */
    onWritten(seq: number, credit: number) {
        const at = this.writeCode === CMD_SEND_TO ? 6 : 0 // where a packet's sequence number is
        this.unacked = this.unacked.filter(p => seqBefore(seq, p.getAt(at, "u16")))
        this.credit = credit
        this.lastProgress = ds.millis()
        this.emit(1)
    }

    onClosed(code: number, message: string) {
        this.closed = true
        if (code) this.failure = new SocketFailure(code, message)
        this.emit(1)
    }

    /**
     * Waits for room, numbers `packet` and sends it; what is not acknowledged in time is sent again.
     * Throws when the socket failed or closed.
     */
    protected async push(packet: Buffer) {
        let retries = 0
        this.lastProgress = ds.millis()
        for (;;) {
            if (this.failure) throw this.failure
            if (this.closed) throw new SocketFailure(0, "connection closed")
            if (this.unacked.length < Math.max(1, Math.min(this.credit, MAX_IN_FLIGHT))) break
            await this.wait(RETRANSMIT_MS) // also woken by received data: time decides
            if (ds.millis() - this.lastProgress >= RETRANSMIT_MS) {
                if (++retries > MAX_RETRANSMITS) throw new SocketFailure(ERROR_TIMEOUT, "writes not acknowledged")
                for (const u of this.unacked) await send(this.writeCode, u)
                this.lastProgress = ds.millis()
            }
        }
        packet.setAt(this.writeCode === CMD_SEND_TO ? 6 : 0, "u16", this.seq)
        this.unacked.push(packet)
        this.seq = (this.seq + 1) & 0xffff
        await send(this.writeCode, packet)
    }

    /** The next item of `queue`, `undefined` after `timeoutMs`; throws when the socket failed or closed. */
    protected async take(queue: any[], timeoutMs: number): Promise<any> {
        for (;;) {
            if (queue.length) return queue.shift()
            if (this.failure) throw this.failure
            if (this.closed) throw new SocketFailure(0, "closed")
            if ((await this.wait(timeoutMs)) === undefined && timeoutMs !== undefined) return undefined
        }
    }

    /** Waits for the server's `opened`; throws the reason when the socket closed instead. */
    async waitOpen() {
        const deadline = ds.millis() + OPEN_TIMEOUT_MS
        while (!this.opened) {
            if (this.failure) throw this.failure
            if (this.closed) throw new SocketFailure(0, "closed")
            if (ds.millis() > deadline) throw new SocketFailure(ERROR_TIMEOUT, "no answer from the socket service")
            await this.wait(500)
        }
    }
}

/** A TCP connection (accepted by a listener, or made with `connect`). */
export class TcpConnection extends SocketBase implements Endpoint {
    /** received in order, not read yet; the last is number rxExpected - 1 (a pair {seq, data} per piece cost 86 B more) */
    private rx: Buffer[] = []
    private leftover: Buffer
    private rxExpected = 0
    private closing: boolean

    constructor(id: number, remoteAddress: string) {
        super(id, CMD_WRITE)
        this.remoteAddress = remoteAddress
        this.opened = id >= 128
    }

    onData(seq: number, data: Buffer) {
        if (this.closing) return // nobody reads any more: nothing is kept (the server's window fills)
        if (seq === this.rxExpected) {
            this.rx.push(data)
            this.rxExpected = (seq + 1) & 0xffff
        } else if (seqBefore(seq, this.rxExpected)) {
            // a retransmission of something we have: acknowledge what was consumed, drop it
            if (!this.rx.length) queueAck(this.id, (this.rxExpected - 1) & 0xffff)
            return
        } else {
            // ahead of a gap (a report was lost on the way): dropped; the server sends both again
            return
        }
        this.emit(1)
    }

    /**
     * The next bytes received, in order. `null` once the peer closed and everything was read,
     * `undefined` on timeout; throws SocketFailure when the connection failed.
     */
    async read(timeoutMs?: number): Promise<Buffer> {
        for (;;) {
            if (this.leftover) {
                const r = this.leftover
                this.leftover = null
                return r
            }
            if (this.rx.length) {
                queueAck(this.id, (this.rxExpected - this.rx.length) & 0xffff) // consumed: the server may send more (back-pressure)
                return this.rx.shift()
            }
            if (this.failure) throw this.failure
            if (this.closed) return null
            const v = await this.wait(timeoutMs)
            if (v === undefined && timeoutMs !== undefined) return undefined
        }
    }

    /** Puts bytes back to be read again (for parsers that read too far). */
    unread(data: Buffer) {
        if (!data.length) return
        this.leftover = this.leftover ? data.concat(this.leftover) : data
    }

    /**
     * A line without its CR LF; `null` at the end of the stream, `undefined` on timeout. Throws when
     * the line is longer than `maxLength`.
     */
    async readLine(maxLength = 512, timeoutMs?: number): Promise<string> {
        let acc: Buffer = null
        for (;;) {
            const b = await this.read(timeoutMs)
            if (b === undefined) {
                if (acc) this.unread(acc)
                return undefined
            }
            if (b === null) return acc ? acc.toString() : null
            acc = acc ? acc.concat(b) : b
            const nl = acc.indexOf(10)
            if (nl >= 0) {
                this.unread(acc.slice(nl + 1))
                const end = nl > 0 && acc[nl - 1] === 13 ? nl - 1 : nl
                return acc.slice(0, end).toString()
            }
            if (acc.length > maxLength) throw new SocketFailure(10, `line longer than ${maxLength} bytes`)
        }
    }

    /** Sends bytes in order; waits while the server has no room (back-pressure). */
    async write(data: Buffer | string) {
        const buf = typeof data === "string" ? Buffer.from(data) : data
        for (let off = 0; off < buf.length; off += MAX_DATA) {
            const n = Math.min(buf.length - off, MAX_DATA)
            const packet = Buffer.alloc(3 + n) // seq (push numbers it), socket, data
            packet[2] = this.id
            packet.blitAt(3, buf, off, n)
            await this.push(packet)
        }
    }

    /** Closes at once, sending nothing more and waiting for nothing (a connection refused). */
    abort() {
        this.closed = true
        this.closing = true
        this.rx = []
        queueClose(this.id)
    }

    /**
     * Flushes what was written, then closes; what arrives meanwhile is dropped, not kept. (Listeners
     * and UDP sockets are never closed: they serve until the program ends.)
     */
    async close() {
        if (this.closed) return
        this.closing = true
        this.rx = []
        this.leftover = null
        // every packet acknowledged first (or the connection failed or closed)
        let deadline = ds.millis() + 5000
        while (this.unacked.length && !this.closed && ds.millis() < deadline) await this.wait(100)
        if (this.closed) return
        await send(CMD_CLOSE, Buffer.from([this.id]))
        deadline = ds.millis() + 3000
        while (!this.closed && ds.millis() < deadline) await this.wait(200)
        this.closed = true
        delete endpoints[this.id]
    }
}

/** A listening TCP socket. */
export class TcpListener extends SocketBase implements Endpoint {
    private queue: TcpConnection[] = []
    /** ds.millis() when its server's accept loop last ran (see serveTcp) */
    aliveAt = ds.millis()
    /** connections of its server open now (serveTcp) */
    held = 0

    onAccepted(conn: TcpConnection) {
        if (this.queue.length >= MAX_ACCEPT_QUEUE) {
            conn.abort() // the program is not taking them: refused before they cost memory
            return
        }
        this.queue.push(conn)
        this.emit(1)
    }

    /** The next connection, `undefined` after `timeoutMs`; throws when the listener failed or was closed. */
    async accept(timeoutMs?: number): Promise<TcpConnection> {
        return await this.take(this.queue, timeoutMs)
    }
}

export interface Datagram {
    address: string
    port: number
    data: Buffer
}

/** A UDP socket. */
export class UdpEndpoint extends SocketBase implements Endpoint {
    private queue: Datagram[] = []
    private partial: Buffer
    /** the rest of a datagram that was too large is being skipped */
    private skipping: boolean
    /** Datagrams dropped: larger than maxDatagram, or the program did not read them in time. */
    dropped = 0

    constructor(id: number, public readonly maxDatagram: number) {
        super(id, CMD_SEND_TO)
    }

    /** Memory is decided before it is taken: a datagram over maxDatagram or beyond a full queue is dropped. */
    onDatagram(address: string, port: number, more: boolean, data: Buffer) {
        const size = (this.partial ? this.partial.length : 0) + data.length
        if (this.skipping || size > this.maxDatagram || this.queue.length >= MAX_QUEUED_DATAGRAMS) {
            this.partial = null
            this.skipping = more
            if (!more && ++this.dropped % 100 === 1) console.warn(`udp ${this.port}: ${this.dropped} datagrams dropped (too large or not read in time)`)
            return
        }
        this.partial = this.partial ? this.partial.concat(data) : data
        if (more) return
        this.queue.push({ address, port, data: this.partial })
        this.partial = null
        this.emit(1)
    }

    /** The next datagram; `undefined` on timeout; throws when the socket failed or closed. */
    async receive(timeoutMs?: number): Promise<Datagram> {
        return await this.take(this.queue, timeoutMs)
    }

    /** Sends one datagram (up to 1472 bytes), fragmented over as many packets as it needs. */
    async sendTo(address: string, port: number, data: Buffer) {
        const addr = parseAddress(address)
        let off = 0
        for (;;) {
            const end = Math.min(data.length, off + MAX_DATAGRAM_FRAGMENT)
            const packet = Buffer.alloc(10 + end - off) // address, port, seq (push numbers it), socket, more, data
            packet.blitAt(0, addr, 0, 4)
            packet.setAt(4, "u16", port)
            packet[8] = this.id
            packet[9] = end < data.length ? 1 : 0
            packet.blitAt(10, data, off, end - off)
            await this.push(packet)
            off = end
            if (off >= data.length) return
        }
    }
}

function portCommand(port: number, id: number, backlog: number) {
    const b = Buffer.alloc(4)
    b.setAt(0, "u16", port)
    b[2] = id
    b[3] = backlog
    return b
}

/** Listens for TCP connections on `port`; at most `backlog` open at once. */
export async function listen(port: number, backlog = 4) {
    await service()
    const l = new TcpListener(allocateId())
    await send(CMD_LISTEN, portCommand(port, l.id, backlog))
    await l.waitOpen()
    return l
}

/** Opens a TCP connection to host:port. */
export async function connect(host: string, port: number) {
    await service()
    const c = new TcpConnection(allocateId(), host)
    const b = Buffer.alloc(3 + host.length)
    b.setAt(0, "u16", port)
    b[2] = c.id
    b.blitAt(3, host, 0, host.length)
    await send(CMD_CONNECT, b)
    await c.waitOpen()
    return c
}

/**
 * Opens a UDP socket on `port` (0: any) for datagrams of at most `maxDatagram` bytes: the server
 * drops larger ones before they cost the program anything.
 */
export async function bindUdp(port: number, maxDatagram: number) {
    await service()
    const u = new UdpEndpoint(allocateId(), maxDatagram)
    const b = Buffer.alloc(6)
    b.setAt(0, "u16", port)
    b[2] = u.id
    b.setAt(4, "u16", maxDatagram)
    await send(CMD_UDP_BIND, b)
    await u.waitOpen()
    return u
}

/**
 * A TCP server: listens on `port` and serves every accepted connection with `serve`, each in a
 * task of its own. At most `backlog` connections are held at once, from their acceptance until they
 * are closed: one beyond that is closed at once, before it costs memory (the socket service counts
 * only what it still has open, and a connection the peer dropped may still be closing here).
 * Returns once listening; throws when the port cannot be bound.
 */
export async function serveTcp(name: string, port: number, backlog: number, serve: (conn: TcpConnection, held: number) => Promise<void>) {
    const listener = await listen(port, backlog)
    startTask(`${name} listener`, async () => {
        for (;;) {
            const conn = await listener.accept(ACCEPT_TICK_MS)
            listener.aliveAt = ds.millis()
            if (!conn) continue
            if (listener.held >= backlog) {
                conn.abort()
                continue
            }
            // a fiber of its own with a single frame above `serve` (each frame stays on the heap for
            // as long as the connection waits: a timer's closure and its creator's frame added up)
            runConnection.start(name, conn, ++listener.held, serve, listener)
        }
    })
    return listener
}

/** The task of one connection. `held`: connections open with this one (a server may answer the one over its limit "busy"). */
async function runConnection(name: string, conn: TcpConnection, held: number, serve: (conn: TcpConnection, held: number) => Promise<void>, listener: TcpListener) {
    try {
        await serve(conn, held)
        await conn.close()
    } catch (e) {
        console.warn(`${name} stopped: ${(e as Error).message}`)
        conn.abort()
    }
    listener.held--
}
