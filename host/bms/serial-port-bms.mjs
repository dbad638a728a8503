// A real BMS on a USB-TTL adapter, 9600 8N1, through the `serialport` package.
import { EventEmitter } from "node:events"

export class SerialPortBms extends EventEmitter {
    constructor(path, port) {
        super()
        this.path = path
        this.port = port
        port.on("data", d => this.emit("data", d))
        port.on("error", e => this.emit("error", e))
        port.on("close", () => this.emit("port-closed"))
    }

    /** Opens the port; rejects with a one-line reason. */
    static async open(path, baudRate = 9600) {
        let SerialPort
        try {
            ;({ SerialPort } = await import("serialport"))
        } catch (e) {
            throw new Error(`cannot use serial ports: the serialport package is not installed (${e.message})`)
        }
        const port = await new Promise((resolve, reject) => {
            const p = new SerialPort({ path, baudRate, dataBits: 8, stopBits: 1, parity: "none", autoOpen: false })
            p.open(err => (err ? reject(new Error(`cannot open serial port ${path}: ${err.message.replace(/^Error: /, "")}`)) : resolve(p)))
        })
        return new SerialPortBms(path, port)
    }

    describe() {
        return `BMS on serial port ${this.path} (9600 8N1)`
    }

    setBaudRate(baudRate) {
        this.port.update({ baudRate }, () => {})
    }

    write(bytes) {
        this.port.write(Buffer.from(bytes))
    }

    close() {
        if (this.port.isOpen) this.port.close(() => {})
    }
}
