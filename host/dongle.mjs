// One dongle on this computer: the DeviceScript VM running the firmware, and host
// implementations of every service the firmware uses. This is both the `npm start` product mode and
// the module the system tests import.
import { EventEmitter } from "node:events"
import fs from "node:fs"
import path from "node:path"
import crypto from "node:crypto"
import { fileURLToPath } from "node:url"
import { VmLink } from "./vm-link.mjs"
import { startVm, flashBytesFor, OLD_FLASH_BYTES } from "./vm.mjs"
import { jd } from "./services/jacdac.mjs"
import { BmsSerialServer } from "./services/bms-serial.mjs"
import { StreamSocketsServer } from "./services/stream-sockets.mjs"
import { FileStoreServer } from "./services/file-store.mjs"
import { AccessPointServer } from "./services/access-point.mjs"
import { HostWifiServer } from "./services/wifi.mjs"
import { StatusLedServer } from "./services/status-led.mjs"
import { HostClockServer } from "./services/clock.mjs"
import { Reason, REASON_NAMES, ResetReasonServer } from "./services/reset-reason.mjs"
import { VirtualBms } from "./bms/virtual-bms.mjs"
import { CaptureBms } from "./bms/capture.mjs"
import { SerialPortBms } from "./bms/serial-port-bms.mjs"
import { BmsClient } from "./bms-client.mjs"

export const PROJECT_DIR = fileURLToPath(new URL("..", import.meta.url))
export const DEFAULT_FIRMWARE = path.join(PROJECT_DIR, "built", "firmware.devs")
const SERVICE_SPECS = path.join(PROJECT_DIR, ".devicescript", "services.json")
const MAX_CONSOLE_LINES = 5000
/**
 * The WASM VM commits its flash to sim.bin about a second after a settings write (inside its C code;
 * on the ESP32 the write is on flash when writeSetting returns). A reset or stop sooner loses it.
 */
export const FLASH_COMMIT_MS = 1500
/**
 * A crashed VM is started again after this, as the ESP32-C3 resets after a panic: it prints the
 * panic, then restarts at once (ESP-IDF's default), and the boot takes about a second.
 */
export const PANIC_RESET_MS = 1000

/** How often the host's servers refresh (stream readings): jacdac-ts's REFRESH_REGISTER_POLL. */
const SERVER_REFRESH_MS = 50

export class DongleError extends Error {}

function loadSpecs() {
    try {
        jd.loadServiceSpecifications(JSON.parse(fs.readFileSync(SERVICE_SPECS, "utf8")))
    } catch {
        // specs only give names to packets in traces; the servers work without them
    }
}

function deviceIdFor(stateDir) {
    const file = path.join(stateDir, "device-id")
    try {
        const id = fs.readFileSync(file, "utf8").trim()
        if (/^[0-9a-f]{16}$/.test(id)) return id
    } catch {}
    const id = crypto.randomBytes(8).toString("hex")
    fs.writeFileSync(file, id + "\n")
    return id
}

async function openBms(o) {
    if (o.bmsPort) return SerialPortBms.open(o.bmsPort)
    if (o.bmsCapture) {
        try {
            return new CaptureBms(o.bmsCapture)
        } catch (e) {
            throw new DongleError(e.message)
        }
    }
    try {
        return new VirtualBms(o.bms ?? {})
    } catch (e) {
        throw new DongleError(`virtual BMS: ${e.message}`)
    }
}

export class Dongle extends EventEmitter {
    /**
     * Starts a dongle. Options:
     * - firmware: the .devs image (default built/firmware.devs)
     * - state: folder for the flash and the device id (default ./.dongle)
     * - sd: the SD card folder (default ./sdcard); noSd: no card; sdCapacityBytes: pretend card size
     * - bmsPort: a real serial port; bmsCapture: a capture file; bms: virtual BMS options
     * - portMap: {programPort: hostPort}; listenAddress (default 127.0.0.1)
     * - wifiInRange: SSIDs the emulated station can join (default ["host-network"])
     * - clockAt: the wall-clock time at start (default now); clockUnset: the RTC has no time yet
     * - echo: print console lines on stdout; log: host messages (default: stderr)
     * - vmPacketCostMs: the VM's throttle per packet the firmware sends (default 1; 20 as on the chip)
     * - vmFlashBytes: the VM's flash (default 256 KB as on the chip, 128 KB for an older state's flash)
     */
    static async start(options = {}) {
        const d = new Dongle(options)
        try {
            await d.boot()
        } catch (e) {
            await d.stop()
            throw e
        }
        return d
    }

    constructor(o) {
        super()
        this.options = o
        this.firmware = path.resolve(o.firmware ?? DEFAULT_FIRMWARE)
        this.stateDir = path.resolve(o.state ?? ".dongle")
        this.log = o.log ?? (msg => process.stderr.write(`[host] ${msg}\n`))
        this.lines = []
        this.lineBase = 0 // index of lines[0] in the whole console history
        this.boots = 0
        this.stopped = false
    }

    async boot() {
        if (!fs.existsSync(this.firmware))
            throw new DongleError(`firmware image ${this.firmware} not found: run "npm run build" first`)
        fs.mkdirSync(this.stateDir, { recursive: true })
        this.deviceId = this.options.deviceId ?? deviceIdFor(this.stateDir)
        this.bms = await openBms(this.options)
        loadSpecs()

        this.vmLink = new VmLink()
        this.bus = new jd.JDBus([this.vmLink.transport], {
            client: false,
            disableRoleManager: true,
        })
        const address = this.options.listenAddress ?? "127.0.0.1"
        this.serial = new BmsSerialServer(this.bms)
        this.sockets = new StreamSocketsServer({ portMap: this.options.portMap ?? {}, listenAddress: address, log: this.log })
        this.sdCard = new FileStoreServer({
            root: this.options.sd ?? "sdcard",
            present: !this.options.noSd,
            capacityBytes: this.options.sdCapacityBytes ?? 0,
        })
        this.accessPoint = new AccessPointServer({ address, log: this.log })
        this.wifi = new HostWifiServer({
            inRange: this.options.wifiInRange ?? ["host-network"],
            address,
            onLink: up => this.accessPoint.setStationConnected(up),
            wirelessFile: this.options.wirelessFile,
        })
        this.led = new StatusLedServer({ render: this.options.renderLed ?? (() => {}) })
        this.bootButton = new jd.ButtonServer("boot")
        this.clock = new HostClockServer({ at: this.options.clockAt, unset: this.options.clockUnset })
        this.resetReason = new ResetReasonServer()
        const services = [this.serial, this.sockets, this.sdCard, this.accessPoint, this.wifi, this.led, this.bootButton, this.clock, this.resetReason]
        this.hostDevice = jd.addServiceProvider(this.bus, { name: "smartbms-host", serviceClasses: services.map(s => s.serviceClass), services: () => services })
        await this.bus.connect(true)
        // jacdac-ts polls the registers of every device on the bus 20 times a second for a UI, and then
        // refreshes its own servers (sensor streaming: the clock, the BOOT button). The host reads the
        // firmware's registers when asked (BmsClient): only the servers' refresh is kept, same period
        this.bus.backgroundRefreshRegisters = false
        this.refreshTimer = setInterval(() => this.hostDevice.emit(jd.REFRESH), SERVER_REFRESH_MS)
        /** the firmware's Daly BMS service, read over the bus */
        this.bmsService = new BmsClient(this.bus)
        this.crashes = 0
        this.flashBytes = this.options.vmFlashBytes ?? flashBytesFor(this.stateDir)
        if (this.flashBytes === OLD_FLASH_BYTES && !this.options.vmFlashBytes)
            this.log(`${path.join(this.stateDir, ".devicescript", "flash", "sim.bin")} is a 128 KB flash of an older host runtime: kept, with its settings, but a firmware image over about 110 KB does not fit it (the chip has 256 KB; delete the file, and its settings, to get that)`)
        this.startVm(Reason.PowerOn, "power applied")
    }

    /** Starts the VM: the chip comes out of reset for `reason`. */
    startVm(reason, detail) {
        this.boots++
        const boot = this.boots
        this.resetReason.chipReset(reason, detail)
        let lastWords = [] // the VM's last console lines: why it aborted
        const vm = startVm({
            image: this.firmware,
            stateDir: this.stateDir,
            link: this.vmLink,
            packetCostMs: this.options.vmPacketCostMs,
            flashBytes: this.flashBytes,
            deviceId: this.deviceId,
            onConsole: line => {
                lastWords = [...lastWords.slice(-3), line]
                // an exception in the program: the VM restarts the program by itself (a panic)
                const panic = /^PANIC (\d+)/.exec(line)
                if (panic) this.resetReason.programCrashed(`program panic ${panic[1]}`)
                this.consoleLine(line)
            },
            onReboot: () => {
                if (this.stopped || boot !== this.boots) return
                this.log("the firmware rebooted the chip")
                setTimeout(() => this.restartChip(Reason.Software, "ds.reboot()"), 50)
            },
            onCrash: why => {
                if (this.stopped || boot !== this.boots) return
                // the chip would have reset itself: so does the host, whatever stopped the VM
                this.crashes++
                const said = `${why}${lastWords.length ? ": " + lastWords.join(" | ") : ""}`
                this.log(`the DeviceScript VM crashed (${said}); restarting it in ${PANIC_RESET_MS} ms, as the chip resets after a panic`)
                this.emit("crash", said)
                setTimeout(() => {
                    if (!this.stopped && boot === this.boots) this.restartChip(Reason.Panic, `VM crashed: ${why}`)
                }, PANIC_RESET_MS)
            },
        })
        this.vm = vm
    }

    consoleLine(line) {
        this.lines.push(line)
        if (this.lines.length > MAX_CONSOLE_LINES) {
            this.lines.shift()
            this.lineBase++
        }
        if (this.options.echo) process.stdout.write(line + "\n")
        this.emit("console", line)
    }

    /** Position in the console history, for waitForLine({ since }). */
    mark() {
        return this.lineBase + this.lines.length
    }

    /** Console lines from `since` on. */
    linesSince(since = 0) {
        return this.lines.slice(Math.max(0, since - this.lineBase))
    }

    /** Waits for a console line matching `pattern` (from `since`, default: from the start). */
    waitForLine(pattern, { since = 0, timeoutMs = 15000 } = {}) {
        const re = typeof pattern === "string" ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : pattern
        const found = this.linesSince(since).find(l => re.test(l))
        if (found !== undefined) return Promise.resolve(found)
        return new Promise((resolve, reject) => {
            const onLine = line => {
                if (!re.test(line)) return
                cleanup()
                resolve(line)
            }
            const timer = setTimeout(() => {
                cleanup()
                reject(new Error(`no console line matching ${re} within ${timeoutMs} ms; last lines:\n  ${this.lines.slice(-15).join("\n  ")}`))
            }, timeoutMs)
            const cleanup = () => {
                clearTimeout(timer)
                this.removeListener("console", onLine)
            }
            this.on("console", onLine)
        })
    }

    /** Waits until the firmware listens on a program port; returns the host port serving it. */
    async waitForPort(programPort, timeoutMs = 15000) {
        const deadline = Date.now() + timeoutMs
        while (Date.now() < deadline) {
            const p = this.sockets.hostPort(programPort)
            if (p) return p
            await new Promise(r => setTimeout(r, 50))
        }
        throw new Error(`the firmware did not listen on port ${programPort} within ${timeoutMs} ms`)
    }

    /**
     * Writes a flash setting of the firmware through the VM's Jacdac Settings service, as a
     * provisioning tool would (no validation: the firmware validates what it loads). `value` is
     * stored as JSON, or as raw bytes when a Buffer.
     */
    async writeFirmwareSetting(key, value) {
        const srv = await this.vmService(jd.SRV_SETTINGS)
        const bytes = Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))
        await srv.sendPacketAsync(jd.Packet.from(0x81, jd.jdpack("z b", [key, bytes])), true)
    }

    /**
     * The raw bytes of a flash setting of the firmware (empty when missing). The answer is matched by
     * its key: the firmware reads its own settings through the same service at the same time.
     */
    async readFirmwareSetting(key, timeoutMs = 3000) {
        const srv = await this.vmService(jd.SRV_SETTINGS)
        return await new Promise((resolve, reject) => {
            const onReport = pkt => {
                if (pkt.serviceCommand !== 0x80) return
                const [k, value] = jd.jdunpack(pkt.data, "z b")
                if (k !== key) return
                cleanup()
                resolve(Buffer.from(value))
            }
            const timer = setTimeout(() => (cleanup(), reject(new Error(`no answer reading the setting ${key}`))), timeoutMs)
            const cleanup = () => {
                clearTimeout(timer)
                srv.off(jd.REPORT_RECEIVE, onReport)
            }
            srv.on(jd.REPORT_RECEIVE, onReport)
            srv.sendPacketAsync(jd.Packet.from(0x80, jd.jdpack("s", [key]))).catch(reject)
        })
    }

    async vmService(serviceClass, timeoutMs = 15000) {
        const deadline = Date.now() + timeoutMs
        for (;;) {
            const srv = this.bus.services({ serviceClass }).find(s => s.device.deviceId === this.vmDeviceId())
            if (srv) return srv
            if (Date.now() > deadline) throw new Error(`the firmware's VM serves no service 0x${serviceClass.toString(16)}`)
            await new Promise(r => setTimeout(r, 50))
        }
    }

    /** The Jacdac device id of the VM (the one that runs DeviceScript). */
    vmDeviceId() {
        return this.bus.devices({ serviceClass: jd.SRV_DEVICE_SCRIPT_MANAGER })[0]?.deviceId
    }

    /** Waits until settings written so far are surely on the flash file (see FLASH_COMMIT_MS). */
    settleFlash() {
        return new Promise(r => setTimeout(r, FLASH_COMMIT_MS))
    }

    /** The reset (EN) button: the chip restarts, flash survives, the BMS and the card are untouched. */
    async reset() {
        this.log("reset button pressed")
        await this.restartChip(Reason.PowerOn, "reset button")
    }

    /**
     * Makes the firmware crash the way the chip panics (key `p`, tests, demonstrations): the VM
     * process aborts, and what follows is what any crash gets (restart after PANIC_RESET_MS, reason
     * `panic`, journaled by the firmware).
     */
    crash() {
        this.log("crashing the firmware (as a chip panic)")
        this.vm?.crash()
    }

    /** The chip resets for `reason`: a new VM, every host service back to its power-on state. */
    async restartChip(reason, detail) {
        await this.vm?.kill()
        this.sockets.closeAll()
        this.accessPoint.resetForBoot()
        this.wifi.resetForBoot()
        this.led.resetForBoot()
        this.emit("reset", REASON_NAMES[reason])
        this.startVm(reason, detail)
    }

    /** Another BMS on the UART (a unit swapped for one of another generation): the old one is closed. */
    swapBms(bms) {
        this.bms?.close()
        this.bms = bms
        this.serial.setLink(bms)
    }

    /** The BOOT button (GPIO9), pressed for `ms`. */
    async pressBoot(ms = 100) {
        this.bootButton.down()
        await new Promise(r => setTimeout(r, ms))
        this.bootButton.up()
    }

    async stop() {
        if (this.stopped) return
        this.stopped = true
        clearInterval(this.refreshTimer)
        await this.vm?.kill()
        this.sockets?.dispose()
        this.led?.dispose()
        this.bms?.close()
        try {
            await this.bus?.disconnect()
            this.bus?.stop?.()
        } catch {}
        this.vmLink?.close()
    }
}

export const startDongle = options => Dongle.start(options)
