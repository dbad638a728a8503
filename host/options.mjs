// Command-line options of the host runtime. Pure: parseArgs(argv) returns options or throws a
// UsageError with a one-line message.
export class UsageError extends Error {}

export const USAGE = `usage: smartbms-host [options]
  --firmware FILE        firmware image (default built/firmware.devs)
  --state DIR            flash and device id of this dongle (default ./.dongle)
  --sd DIR               folder used as the SD card (default ./sdcard)
  --no-sd                run without an SD card
  --bms-port PATH        a real BMS on a serial port (USB-TTL adapter), 9600 8N1
  --bms-capture FILE     replay a capture file instead of the virtual BMS: 0xA5 replies per data id,
                         or a register image of a newer unit ("protocol d2" / "protocol 81 board N",
                         then "@XXXX: WORD WORD ..."; see docs/host-runtime.md)
  --bms-protocol P       virtual BMS: a5 (classic 0xA5 frames, default), d2 or 81 (the newer
                         Modbus-style protocol of H/K/M/S and 100Balance units, D2 or 0x81+board)
  --bms-board N          virtual BMS: board number of the 81 scheme, 1-16 (default 1)
  --bms-cells N          virtual BMS: cells, 1-48 (default 16)
  --bms-temps N          virtual BMS: temperature sensors, 1-16 (default 2)
  --bms-capacity AH      virtual BMS: rated capacity in Ah (default 100)
  --bms-soc PCT          virtual BMS: initial state of charge (default 60)
  --bms-current A        virtual BMS: current, positive charges (default 0)
  --port-map P=Q[,..]    serve the dongle's port P on port Q of this computer (Q=0: any free port)
  --listen ADDRESS       address the dongle's servers bind (default 127.0.0.1; 0.0.0.0 for the LAN)
  --chip-timing          the VM keeps the chip's timing: the packets the firmware sends are throttled
                         to 20 ms each after a burst of five, and the VM wakes every 10 ms (the host's
                         defaults: 1 ms, and 50 ms when idle; docs/host-runtime.md)
  --help                 this text
keys (in a terminal): r = reset button, b = BOOT button, s = BMS sleep/wake, p = crash the firmware
  as a chip panic would (it restarts by itself), q = quit
signals: SIGUSR2 = reset button`

const VALUE_OPTIONS = {
    "--firmware": "firmware", "--state": "state", "--sd": "sd", "--bms-port": "bmsPort",
    "--bms-capture": "bmsCapture", "--listen": "listenAddress",
}
const NUMBER_OPTIONS = {
    "--bms-cells": ["cells", 1, 48, true], "--bms-temps": ["temperatureSensors", 1, 16, true],
    "--bms-capacity": ["capacityAh", 1, 10000, false], "--bms-soc": ["soc", 0, 100, false],
    "--bms-current": ["current", -3000, 3000, false], "--bms-board": ["board", 1, 16, true],
}
const PROTOCOLS = ["a5", "d2", "81"]

function parsePortMap(text, map) {
    for (const pair of text.split(",")) {
        const m = /^(\d+)=(\d+)$/.exec(pair.trim())
        const [from, to] = m ? [Number(m[1]), Number(m[2])] : []
        if (!m || from < 1 || from > 65535 || to > 65535)
            throw new UsageError(`--port-map: "${pair}" is not PORT=PORT (ports 1-65535, 0 for any free port)`)
        map[from] = to
    }
}

export function parseArgs(argv) {
    const o = { portMap: {}, bms: {} }
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i]
        const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined]
        const value = () => {
            const v = inline ?? argv[++i]
            if (v === undefined || (inline === undefined && v.startsWith("--"))) throw new UsageError(`${flag} needs a value`)
            return v
        }
        if (flag === "--help" || flag === "-h") o.help = true
        else if (flag === "--no-sd") o.noSd = true
        else if (flag === "--chip-timing") o.vmPacketCostMs = 20
        else if (flag === "--port-map") parsePortMap(value(), o.portMap)
        else if (VALUE_OPTIONS[flag]) o[VALUE_OPTIONS[flag]] = value()
        else if (flag === "--bms-protocol") {
            const p = value().toLowerCase()
            if (!PROTOCOLS.includes(p)) throw new UsageError(`--bms-protocol: "${p}" is not a5, d2 or 81`)
            o.bms.protocol = p
        }
        else if (NUMBER_OPTIONS[flag]) {
            const [key, min, max, integer] = NUMBER_OPTIONS[flag]
            const text = value()
            const n = Number(text)
            if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
                throw new UsageError(`${flag}: "${text}" is not ${integer ? "a whole number" : "a number"} from ${min} to ${max}`)
            o.bms[key] = n
        } else throw new UsageError(`unknown option ${arg} (see --help)`)
    }
    if (o.bmsPort && o.bmsCapture) throw new UsageError("--bms-port and --bms-capture exclude each other")
    if ((o.bmsPort || o.bmsCapture) && Object.keys(o.bms).length)
        throw new UsageError("--bms-cells/--bms-temps/... describe the virtual BMS; they do not go with --bms-port or --bms-capture")
    if (o.bms.board !== undefined && o.bms.protocol !== "81") throw new UsageError("--bms-board is the board number of the 81 scheme: use it with --bms-protocol 81")
    return o
}
