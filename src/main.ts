// Wiring only: each capability lives in its own folder.
import { beginBoot, finishBoot } from "./boot/start"
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
import { ftpFailureChanged, startFtpUpload } from "./ftp/uploader"
import { FLAG_FTP_FAILURE, FLAG_MQTT_FAILURE } from "./journal/journal"
import { mqttFailureChanged, startMqtt } from "./mqtt/uplink"
import { startHistory } from "./history/history"

await beginBoot()
const bms = await startBmsLink()
bmsChanged.subscribe(() => setLedInputs({ bmsError: bmsLink() === LINK_ERROR }))
await finishBoot()
await startJournal() // before the web API serves it
startTask("Web", async () => await startWeb(bms.poller))
startTask("Modbus", async () => await startModbus(bms.poller))
startTask("PCMaster bridge", async () => await startPcmasterBridge(bms.uart, bms.poller))
sdErrorChanged.subscribe(failing => setDongleFlag(FLAG_SD_CARD_ERROR, failing))
startSdLogging()
startHistory()
ftpFailureChanged.subscribe(failing => setDongleFlag(FLAG_FTP_FAILURE, failing))
startFtpUpload()
mqttFailureChanged.subscribe(failing => setDongleFlag(FLAG_MQTT_FAILURE, failing))
startMqtt(bms.poller)
await startPeriodicReset()
