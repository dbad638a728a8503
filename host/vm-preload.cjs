// Loaded into the DeviceScript VM process: its --tcp transport always dials 127.0.0.1:8082; send it
// to this dongle's private hub instead, so that several dongles (and tests) run side by side.
const net = require("net")
const hubPort = parseInt(process.env.SMARTBMS_HUB_PORT, 10)
const createConnection = net.createConnection
net.createConnection = function (...args) {
    if (args[0] === 8082 && hubPort) args[0] = hubPort
    return createConnection.apply(this, args)
}

// The VM belongs to its host runtime: when that process is gone (even killed with SIGKILL, which
// gives it no chance to stop the VM), the VM exits instead of running on as an orphan.
const hostPid = process.ppid
setInterval(() => {
    try {
        process.kill(hostPid, 0)
    } catch {
        process.exit(0)
    }
    if (process.ppid !== hostPid) process.exit(0)
}, 1000).unref()

// The host's key `p` (Dongle.crash()): the VM dies the way it does on a failed assertion in its C
// code (exit code 1 after a message), so the host's crash handling is the one a real crash gets.
process.on("SIGUSR2", () => {
    process.stderr.write("panic requested by the host (key p)\n")
    process.exit(1)
})
