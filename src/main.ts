// Wiring only: each capability lives in its own folder.
import { beginBoot, finishBoot } from "./boot/start"
import { startBmsLink } from "./bms/start"
import { bmsChanged, bmsLink } from "./bms/store"
import { LINK_ERROR } from "./bms/link-state"
import { setLedInputs } from "./led/status-led"

await beginBoot()
await startBmsLink()
bmsChanged.subscribe(() => setLedInputs({ bmsError: bmsLink() === LINK_ERROR }))
await finishBoot()
