// The Modbus TCP server on the stream-socket contract: port and unit id from the settings, at most
// MAX_CLIENTS connections (more are refused by the socket service), writes through the BMS poller.
import * as ds from "@devicescript/core"
import { currentSnapshot } from "../bms/store"
import { BmsPoller } from "../bms/poller"
import { setting } from "../settings/store"
import { serveTcp, TcpConnection } from "../platform/stream-sockets"
import { CHARGE_MOS_CONTROL } from "./register-map"
import { exception, EX_DEVICE_FAILURE, EX_GATEWAY_PATH, FrameSplitter, frameResponse, ModbusFrame, processPdu } from "./protocol"

export const MAX_CLIENTS = 4
/** A connection without a request this long is closed. */
export const IDLE_TIMEOUT_MS = 120000

/** the BMS link that writes go through (one per dongle) */
let poller: BmsPoller = null

async function answer(conn: TcpConnection, frame: ModbusFrame) {
    if (frame.unit !== setting("ports.unit")) {
        await conn.write(frameResponse(frame, exception(frame.pdu[0], EX_GATEWAY_PATH)))
        return
    }
    const outcome = processPdu(frame.pdu, { snapshot: currentSnapshot(), writeEnabled: setting("ports.mbWrite") })
    let pdu = outcome.pdu
    if (!pdu) {
        let ok = true
        for (const w of outcome.writes) {
            const on = w.value === 1
            ok = ok && (await poller.setSwitch(w.addr === CHARGE_MOS_CONTROL ? "chg" : "dsg", on))
        }
        pdu = ok ? outcome.okPdu : exception(frame.pdu[0], EX_DEVICE_FAILURE)
    }
    await conn.write(frameResponse(frame, pdu))
}

async function serve(conn: TcpConnection) {
    const splitter = new FrameSplitter()
    try {
        for (;;) {
            const bytes = await conn.read(IDLE_TIMEOUT_MS)
            if (!bytes) break // closed by the client, or idle
            splitter.push(bytes)
            for (let frame = splitter.next(); frame; frame = splitter.next()) await answer(conn, frame)
            if (splitter.error) {
                console.log(`Modbus: ${conn.remoteAddress}: malformed header (${splitter.error}); connection closed`)
                break
            }
        }
    } catch (e) {
        console.log(`Modbus: ${conn.remoteAddress}: ${(e as Error).message}`)
    }
}

export async function startModbus(bms: BmsPoller) {
    poller = bms
    const port = setting("ports.modbus") as number
    const listener = await serveTcp("Modbus client", port, MAX_CLIENTS, serve)
    console.log(`Modbus TCP: port ${port}, unit id ${setting("ports.unit")}, writes ${setting("ports.mbWrite") ? "enabled" : "disabled"}`)
    return listener
}
