// Wiring only: each capability lives in its own folder.
import { countBoot } from "./boot-count"
import { printBanner } from "./console/banner"
import { startBmsProbe } from "./bms/probe"

async function main() {
    printBanner(await countBoot())
    await startBmsProbe()
}

await main()
