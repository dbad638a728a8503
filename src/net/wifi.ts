// Wi-Fi: station mode on the configured network (hostname and mDNS name from the settings), or the
// dongle's own access point SmartBMS-XXXX. A configured network out of reach is retried with backoff;
// the access point opens then only after LONG_FAILURE_MS (and station retries go on beside it).
import * as ds from "@devicescript/core"
import { setting } from "../settings/store"
import { startTask } from "../platform/tasks"
import { setLedInputs } from "../led/status-led"
import { RegisterReader } from "../platform/registers"
import { readSetting, writeSetting } from "@devicescript/settings"
import { randomBuffer } from "@devicescript/crypto"

export const AP_SSID_PREFIX = "SmartBMS-"
export const AP_ADDRESS_NOTE = "192.168.4.1 on the dongle"
export const FIRST_RETRY_MS = 5000
export const MAX_RETRY_MS = 300000
export const CONNECT_WAIT_MS = 15000
/** Without the configured network this long, the access point opens beside the retries. */
export const LONG_FAILURE_MS = 30 * 60 * 1000

const wifi = new ds.Wifi()
const ap = new ds.WifiAccessPoint()
/** Both services keep the current address in register 0x181 */
const IP_ADDRESS_REGISTER = 0x181
const wifiRegisters = new RegisterReader(wifi)
const apRegisters = new RegisterReader(ap)
let apRunning = false
let stationUp = false
let stationIp = "0.0.0.0"
let apIp = "0.0.0.0"

/** What the API reports: "ap" while the access point runs, else "station"; and the address. */
export function networkState() {
    return { mode: apRunning ? "ap" : "station", ip: apRunning ? apIp : stationIp, connected: apRunning || stationUp }
}

/** SSID of the dongle's access point: SmartBMS- and the last 4 hex digits of the device id. */
export function accessPointSsid(deviceId: string) {
    return AP_SSID_PREFIX + deviceId.slice(deviceId.length - 4).toUpperCase()
}

/** The flash key of the access point's password: the device's, kept by a factory reset (a label). */
export const AP_PASSWORD_KEY = "apPass"
export const AP_PASSWORD_LENGTH = 10
/** Lower case and digits without the look-alikes 0 o 1 l i: easy to type on a phone. */
const AP_PASSWORD_CHARS = "abcdefghjkmnpqrstuvwxyz23456789"

/** A password from random bytes. Pure. */
export function passwordFrom(random: Buffer) {
    let p = ""
    for (let i = 0; i < random.length; i++) p += AP_PASSWORD_CHARS.charAt(random[i] % AP_PASSWORD_CHARS.length)
    return p
}

/**
 * WPA2 password of the access point: random, made from the hardware random source at the first boot
 * and kept for the life of the dongle. Nothing the dongle publishes (device id, SSID, MQTT topics)
 * tells it; it is printed on the USB console at every boot.
 */
export async function accessPointPassword() {
    let p = await readSetting<string>(AP_PASSWORD_KEY, "")
    if (typeof p !== "string" || p.length < 8) {
        p = passwordFrom(randomBuffer(AP_PASSWORD_LENGTH))
        await writeSetting(AP_PASSWORD_KEY, p)
    }
    return p
}

/** An IPv4 address from a register: 4 bytes, or the first 4 of 16 (the Wi-Fi service pads it). */
function ipText(b: Buffer) {
    return b && b.length >= 4 ? `${b[0]}.${b[1]}.${b[2]}.${b[3]}` : "0.0.0.0"
}

function printWebAddress(ip: string) {
    const port = setting("ports.web")
    console.log(`Web: http://${ip}:${port}/ (http://${setting("wifi.host")}.local:${port}/)`)
}

async function waitBound(role: ds.Role) {
    while (!role.isBound) await ds.sleep(50)
}

export async function startAccessPoint() {
    await waitBound(ap)
    const id = ds.deviceIdentifier("self")
    const ssid = accessPointSsid(id)
    const password = await accessPointPassword()
    const status = await ds.actionReport(ap, "startAp", async () => await ap.startAp(0, ssid, password))
    if (status.payload[0] !== 0) {
        console.warn(`Wi-Fi: the access point did not start (status ${status.payload[0]})`)
        return
    }
    apRunning = true
    setLedInputs({ accessPoint: true })
    const ip = ipText(await apRegisters.read(IP_ADDRESS_REGISTER))
    apIp = ip
    console.log(`Wi-Fi: access point mode, SSID ${ssid}, WPA2 password ${password}, IP ${ip}`)
    printWebAddress(ip)
}

/** The Wi-Fi service's signal register (i8, dBm; -128 while not connected) */
const RSSI_REGISTER = 0x101
let signalMisses = 0

/**
 * The station's signal in dBm; null while not connected, and for good where the platform does not
 * report it (the host runtime on a machine without Wi-Fi: three reads unanswered).
 */
export async function wifiSignalDbm(): Promise<number> {
    if (signalMisses >= 3 || apRunning) return null
    const b = await wifiRegisters.read(RSSI_REGISTER, 300)
    signalMisses = b ? 0 : signalMisses + 1
    const v = b && b.length ? (b[0] << 24) >> 24 : -128
    return v === -128 ? null : v
}

async function stationConnected() {
    const ip = await wifiRegisters.read(IP_ADDRESS_REGISTER)
    return !!ip && ip.length >= 4 && (ip[0] | ip[1] | ip[2] | ip[3]) !== 0 ? ip : null
}

async function runStation(ssid: string) {
    await waitBound(wifi)
    await wifi.addNetwork(ssid, setting("wifi.pass"))
    let retryMs = FIRST_RETRY_MS
    let lostSince = ds.millis()
    for (;;) {
        let ip = await stationConnected()
        if (!ip) {
            await wifi.reconnect()
            const deadline = ds.millis() + CONNECT_WAIT_MS
            while (!ip && ds.millis() < deadline) {
                await ds.sleep(250)
                ip = await stationConnected()
            }
        }
        if (ip && !stationUp) {
            stationUp = true
            stationIp = ipText(ip)
            retryMs = FIRST_RETRY_MS
            setLedInputs({ stationConnected: true })
            console.log(`Wi-Fi: station mode, connected to "${ssid}", IP ${ipText(ip)}`)
            printWebAddress(ipText(ip))
        } else if (!ip) {
            if (stationUp) {
                stationUp = false
                lostSince = ds.millis()
                setLedInputs({ stationConnected: false })
                console.log(`Wi-Fi: lost "${ssid}"; retrying`)
            }
            console.log(`Wi-Fi: "${ssid}" not reachable; next try in ${Math.round(retryMs / 1000)} s`)
            if (!apRunning && ds.millis() - lostSince >= LONG_FAILURE_MS) {
                console.log(`Wi-Fi: no "${ssid}" for ${Math.round(LONG_FAILURE_MS / 60000)} min: opening the access point as well`)
                await startAccessPoint()
            }
            await ds.sleep(retryMs)
            retryMs = Math.min(MAX_RETRY_MS, retryMs * 2)
            continue
        }
        await ds.sleep(2000)
    }
}

/** Brings the network up: the access point when asked or when no network is configured. */
export async function startNetwork(accessPointMode: boolean) {
    await waitBound(ap)
    await ap.hostname.write(setting("wifi.host"))
    const ssid = setting("wifi.ssid") as string
    if (accessPointMode || !ssid) {
        if (!ssid) console.log("Wi-Fi: no network configured")
        await startAccessPoint()
        return
    }
    console.log(`Wi-Fi: connecting to "${ssid}" as ${setting("wifi.host")}`)
    startTask("Wi-Fi station", async () => await runStation(ssid))
}

/** Forgets the station networks (factory reset). */
export async function forgetNetworks() {
    await waitBound(wifi)
    await wifi.forgetAllNetworks()
}
