// The PCMaster bridge on UDP (ports.pcmPort, default 6790): Daly's PCMaster reaches the BMS through
// the dongle. Datagrams from the session's client go to the BMS UART unchanged; bytes from the BMS
// go back to that client, gathered until the UART has been quiet REPLY_GAP_MS (so a multi-frame
// reply travels whole), and a Modbus-style reply of the newer units until its length (from its byte
// count) is there. The dongle's polling pauses during the session.
import * as ds from "@devicescript/core"
import { BmsPoller } from "../bms/poller"
import { BmsUart } from "../bms/uart"
import { setting } from "../settings/store"
import { bindUdp, UdpEndpoint } from "../platform/stream-sockets"
import { startTask } from "../platform/tasks"
import { Signal } from "../platform/signal"
import { BridgeSession, isBmsRequest, REFUSED, SESSION_IDLE_MS, STARTED } from "./session"

/** UART quiet time that ends a reply (3 byte times at 9600 baud plus the timer grain). */
export const REPLY_GAP_MS = 30
/**
 * A PCMaster request is one or a few frames (13 bytes each, 8 for the Modbus-style protocol):
 * anything larger is not PCMaster and is dropped by the socket service before it costs memory.
 */
export const MAX_REQUEST_BYTES = 226
/** The BMS's bytes gathered for one reply at most (16 cell frames are 208 bytes); more goes at once. */
export const MAX_REPLY_BYTES = 512
/** A Modbus-style reply still short of its length goes out after this much quiet all the same. */
export const PARTIAL_REPLY_MS = 300

export async function startPcmasterBridge(uart: BmsUart, poller: BmsPoller) {
    if (!setting("ports.pcm")) {
        console.log("PCMaster bridge: disabled")
        return
    }
    const port = setting("ports.pcmPort") as number
    const udp = await bindUdp(port, MAX_REQUEST_BYTES)
    console.log(`PCMaster bridge: UDP port ${port}`)
    const session = new BridgeSession()
    let clientAddress = ""
    let clientPort = 0
    let pending: Buffer = null
    let lastByteMs = 0
    let refused = 0 // datagrams of other clients during this session (logged at the first, then every 100th)
    let notRequests = 0
    const sessionStarted = new Signal()

    const onBytes = (bytes: Buffer) => {
        pending = pending ? pending.concat(bytes) : bytes
        lastByteMs = ds.millis()
    }

    // replies back to the client, and the end of idle sessions; between sessions it sleeps until one
    // starts (no 10 ms tick of its own while nobody uses the bridge)
    startTask("PCMaster replies", async () => {
        for (;;) {
            if (session.owner === "") await sessionStarted.wait()
            await ds.sleep(10)
            // a Modbus-style read reply (function 03) travels whole: its length comes from its byte count
            const p = pending
            if (p && (p.length >= MAX_REPLY_BYTES || ds.millis() - lastByteMs >= (p[1] === 3 && p.length < 5 + p[2] ? PARTIAL_REPLY_MS : REPLY_GAP_MS))) {
                const reply = pending
                pending = null
                await udp.sendTo(clientAddress, clientPort, reply)
            }
            if (session.expired(ds.millis())) {
                uart.rawListener = null
                poller.resume()
                refused = 0
                console.log(`PCMaster: session ended after ${SESSION_IDLE_MS / 1000} s idle; BMS polling resumed`)
            }
        }
    })

    startTask("PCMaster bridge", async () => {
        for (;;) {
            const d = await udp.receive()
            if (!isBmsRequest(d.data)) {
                if (++notRequests === 1 || notRequests % 100 === 0) console.log(`PCMaster: ${notRequests} datagrams ignored (not a BMS request)`)
                continue
            }
            const client = `${d.address}:${d.port}`
            const verdict = session.offer(client, ds.millis())
            if (verdict === REFUSED) {
                if (++refused % 100 === 1) console.log(`PCMaster: ignoring ${client}: the session of ${session.owner} is active`)
                continue
            }
            if (verdict === STARTED) {
                clientAddress = d.address
                clientPort = d.port
                console.log(`PCMaster: session from ${client}; BMS polling paused`)
                await poller.pause()
                uart.rawListener = onBytes
                sessionStarted.emit(1)
            }
            await uart.sendRaw(d.data)
        }
    })
}
