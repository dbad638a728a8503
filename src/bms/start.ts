// Starts the BMS link: UART, poller, console status, the Daly BMS Jacdac service. Returns the
// poller (commands, pause) and the UART (the PCMaster bridge).
import { startTask } from "../platform/tasks"
import { startConsoleStatus } from "./console-status"
import { serveDalyBms } from "./jacdac-server"
import { bmsOptions, rememberProtocol } from "./options"
import { BmsPoller } from "./poller"
import { BmsUart } from "./uart"

export async function startBmsLink() {
    const options = bmsOptions()
    const uart = new BmsUart()
    await uart.start()
    const poller = new BmsPoller(uart, {
        found: options.found,
        force: options.force,
        board: options.board,
        invertCurrent: options.invertCurrent,
        onFound: rememberProtocol,
    })
    startConsoleStatus()
    serveDalyBms(poller)
    startTask("BMS poller", async () => await poller.run())
    return { poller, uart }
}
