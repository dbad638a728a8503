// Wiring only: each capability lives in its own folder.
import { beginBoot, bootWasCrash, finishBoot } from "./boot/start"
import { startBmsLink } from "./bms/start"
import { bmsChanged, bmsLink } from "./bms/store"
import { LINK_ERROR } from "./bms/link-state"
import { setLedInputs } from "./led/status-led"
import { startModbus } from "./modbus/server"
import { startPcmasterBridge } from "./pcmaster/bridge"
import { startTask } from "./platform/tasks"
import { startWeb } from "./web/server"
import { sdErrorChanged, startSdLogging } from "./sdlog/logger"
import { setDongleFlag, startJournal } from "./journal/store"
import { FLAG_SD_CARD_ERROR } from "./journal/journal"
import { startPeriodicReset } from "./maintenance/periodic-reset"
import { startWatchdog, watchTask } from "./maintenance/watchdog"
import { ftpFailureChanged, startFtpUpload } from "./ftp/uploader"
import { FLAG_FTP_FAILURE, FLAG_MQTT_FAILURE, FLAG_RESTARTED_AFTER_CRASH } from "./journal/journal"
import { mqttFailureChanged, startMqtt } from "./mqtt/uplink"
import { startHistory } from "./history/history"

await beginBoot()
const bms = await startBmsLink()
bmsChanged.subscribe(() => setLedInputs({ bmsError: bmsLink === LINK_ERROR }))
await finishBoot()
setDongleFlag(FLAG_RESTARTED_AFTER_CRASH, bootWasCrash()) // journaled at the first check, cleared at the next
await startJournal() // before the web API serves it
watchTask("BMS poller", () => bms.poller.aliveAt)
startTask("Web", async () => {
    const web = await startWeb(bms.poller)
    watchTask("web server", () => web.aliveAt)
})
startTask("Modbus", async () => {
    const modbus = await startModbus(bms.poller)
    watchTask("Modbus server", () => modbus.aliveAt)
})
startTask("PCMaster bridge", async () => await startPcmasterBridge(bms.uart, bms.poller))
sdErrorChanged.subscribe(failing => setDongleFlag(FLAG_SD_CARD_ERROR, failing))
startSdLogging()
startHistory()
ftpFailureChanged.subscribe(failing => setDongleFlag(FLAG_FTP_FAILURE, failing))
startFtpUpload()
mqttFailureChanged.subscribe(failing => setDongleFlag(FLAG_MQTT_FAILURE, failing))
startMqtt(bms.poller)
await startPeriodicReset()
startWatchdog()
