// A small MQTT 3.1.1 client on the stock DeviceScript socket (TCP or TLS): CONNECT with a last will,
// QoS 0 publish, one subscription, keep-alive. Quiet (no traces on the console) and bounded: a packet
// from the broker larger than MAX_INCOMING_BYTES, a malformed one, or a broker silent for longer than
// twice the keep-alive closes the connection with a clear error instead of taking memory.
import * as ds from "@devicescript/core"
import { connect, Socket } from "@devicescript/net"
import { startTask } from "../platform/tasks"
import { Signal } from "../platform/signal"
import { utf8Length } from "../platform/text"

/** The largest packet taken from the broker: commands are a few bytes; retained junk is not ours. */
export const MAX_INCOMING_BYTES = 512
export const KEEP_ALIVE_S = 60

export interface MqttOptions {
    host: string
    port: number
    tls: boolean
    user: string
    pass: string
    clientId: string
    willTopic: string
    timeoutMs: number
}

const CONNACK_ERRORS = ["", "protocol version refused", "client id refused", "broker unavailable", "bad user name or password", "not authorised"]

function field(s: string | Buffer) {
    const b = typeof s === "string" ? Buffer.from(s) : s
    const r = Buffer.alloc(2 + b.length)
    r[0] = b.length >> 8 // big-endian, as everything in MQTT
    r[1] = b.length & 0xff
    r.blitAt(2, b, 0, b.length)
    return r
}

/**
 * Fixed header (type and flags, remaining length) and the `parts` of the body, joined in one go
 * (joined two by two, a message took three copies of itself on the heap). `more`: bytes of the body
 * sent after this buffer (a payload sent as it is). Pure.
 */
export function mqttPacket(first: number, parts: Buffer[], more = 0) {
    let size = more
    for (const p of parts) size += p.length
    const head: number[] = [first]
    for (let n = size; ; ) {
        head.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0))
        n = n >> 7
        if (!n) break
    }
    return Buffer.concat(Buffer.from(head), ...parts)
}

/** CONNECT with a retained "offline" will on `willTopic`. Pure. */
export function connectPacket(o: MqttOptions) {
    const flags = 0x02 | 0x04 | 0x20 | (o.user ? 0x80 : 0) | (o.pass ? 0x40 : 0) // clean session, will, will retain
    const parts = [Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags, 0, KEEP_ALIVE_S]), field(o.clientId), field(o.willTopic), field("offline")]
    if (o.user) parts.push(field(o.user))
    if (o.pass) parts.push(field(o.pass))
    return mqttPacket(0x10, parts)
}

/**
 * The first whole packet in `b`: [type byte, body start, body end], `null` while incomplete; throws
 * on a length over MAX_INCOMING_BYTES (or a malformed one). Pure.
 */
export function packetBounds(b: Buffer): number[] {
    let len = 0
    let i = 1
    for (let shift = 0; ; shift += 7, i++) {
        if (i >= b.length) return null
        len |= (b[i] & 0x7f) << shift
        if (!(b[i] & 0x80)) break
        if (shift >= 14) throw new Error("malformed packet length from the broker")
    }
    if (len > MAX_INCOMING_BYTES) throw new Error(`the broker sent a packet of ${len} bytes (at most ${MAX_INCOMING_BYTES} taken)`)
    return b.length < i + 1 + len ? null : [b[0], i + 1, i + 1 + len]
}

/** Its own change signal (a Signal of its own cost 86 B of heap). */
export class MqttConnection extends Signal {
    connected = false
    error = ""
    private socket: Socket = null
    private input: Buffer = Buffer.alloc(0)
    private onMessage: (topic: string, payload: Buffer) => Promise<void>
    private busy: boolean
    private lastHeardMs: number

    /** Connects; throws with the reason when the broker cannot be reached or refuses. */
    async open(o: MqttOptions) {
        this.socket = await connect({ host: o.host, port: o.port, proto: o.tls ? "tls" : "tcp", timeout: o.timeoutMs })
        await this.socket.send(connectPacket(o))
        this.lastHeardMs = ds.millis()
        const self = this
        startTask("MQTT reader", async () => await self.readLoop())
        const deadline = ds.millis() + o.timeoutMs
        while (!this.connected && !this.error && ds.millis() < deadline) await this.wait(500)
        if (!this.connected) {
            await this.close(this.error || "no answer from the broker (CONNACK)")
            throw new Error(this.error)
        }
        startTask("MQTT keep-alive", async () => {
            while (self.connected) {
                await self.wait((KEEP_ALIVE_S * 1000) / 2)
                if (!self.connected) break
                if (ds.millis() - self.lastHeardMs > KEEP_ALIVE_S * 2000) await self.close("the broker stopped answering")
                else await self.send(Buffer.from([0xc0, 0]))
            }
        })
    }

    private async send(b: Buffer | string) {
        try {
            if (this.socket) await this.socket.send(b)
        } catch (e) {
            await this.close((e as Error).message)
        }
    }

    /**
     * The payload (a string, or a text in pieces) goes out as it is after the head: the socket takes
     * strings. Copied into the packet, a 1 KB state message was on the heap three times.
     */
    async publish(topic: string, payload: string | string[], retain: boolean) {
        const pieces = typeof payload === "string" ? [payload] : payload
        let size = 0
        for (const p of pieces) size += utf8Length(p)
        await this.send(mqttPacket(retain ? 0x31 : 0x30, [field(topic)], size))
        for (const p of pieces) await this.send(p)
    }

    /** Subscribes (QoS 0); a message arriving while the previous one is handled is dropped. */
    async subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => Promise<void>) {
        this.onMessage = onMessage
        await this.send(mqttPacket(0x82, [Buffer.from([0, 1]), field(filter), Buffer.from([0])]))
    }

    async close(reason = "") {
        if (!this.error) this.error = reason
        this.connected = false
        const s = this.socket
        this.socket = null
        this.emit(1)
        if (s) await s.close()
    }

    private async readLoop() {
        try {
            while (this.socket) {
                const chunk = await this.socket.recv(1000)
                if (chunk === null) return await this.close("connection closed by the broker")
                if (chunk === undefined) continue
                this.lastHeardMs = ds.millis()
                if (this.input.length + chunk.length > MAX_INCOMING_BYTES + 5) throw new Error("more data from the broker than any packet it may send")
                this.input = this.input.concat(chunk)
                for (;;) {
                    const p = packetBounds(this.input)
                    if (!p) break
                    await this.handle(p[0], this.input.slice(p[1], p[2]))
                    this.input = this.input.slice(p[2])
                }
            }
        } catch (e) {
            await this.close((e as Error).message)
        }
    }

    private async handle(type: number, body: Buffer) {
        const kind = type >> 4
        if (kind === 2) {
            if (body[1]) throw new Error(`the broker refused the connection: ${CONNACK_ERRORS[body[1]] || "code " + body[1]}`)
            this.connected = true
            this.emit(1)
        } else if (kind === 3 && this.onMessage && !this.busy && body.length >= 2) {
            const topicEnd = 2 + ((body[0] << 8) | body[1])
            const payloadStart = topicEnd + ((type >> 1) & 3 ? 2 : 0) // packet id with QoS 1/2
            const handler = this.onMessage
            const topic = body.slice(2, topicEnd).toString()
            const payload = body.slice(payloadStart)
            this.busy = true
            const self = this
            startTask("MQTT message", async () => {
                try {
                    await handler(topic, payload)
                } finally {
                    self.busy = false
                }
            })
        } else if (kind !== 3 && kind !== 9 && kind !== 13) throw new Error(`unexpected packet type ${kind} from the broker`)
    }
}
