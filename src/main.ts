// Wiring only: each capability lives in its own folder.
import { countBoot } from "./boot-count"
import { printBanner } from "./console/banner"
import { startBmsLink } from "./bms/start"

printBanner(await countBoot())
await startBmsLink()
