// A small FTP client on the stream-socket contract: control connection plus passive data
// connections (EPSV, falling back to PASV), binary type. Every failure is an FtpError naming the step.
import { connect, SocketFailure, TcpConnection } from "../platform/stream-sockets"
import { epsvPort, FtpReply, pasvAddress, ReplyReader } from "./protocol"

export const REPLY_TIMEOUT_MS = 15000

export class FtpError extends Error {}

export class FtpClient {
    private conn: TcpConnection = null
    private readonly reader = new ReplyReader()
    private host = ""

    private async reply(): Promise<FtpReply> {
        for (;;) {
            const line = await this.conn.readLine(1024, REPLY_TIMEOUT_MS)
            if (line === undefined) throw new FtpError("no answer from the server (timeout)")
            if (line === null) throw new FtpError("the server closed the connection")
            const r = this.reader.push(line)
            if (r) return r
        }
    }

    /** Sends a command; its reply must have one of the codes `ok`, or FtpError(`what`). */
    /** Sends a command; its reply, whatever it says. */
    private async ask(cmd: string) {
        await this.conn.write(cmd + "\r\n")
        return await this.reply()
    }

    private async command(cmd: string, ok: number[], what: string) {
        const r = await this.ask(cmd)
        if (ok.indexOf(r.code) < 0) throw new FtpError(`${what}: ${r.code} ${r.text}`)
        return r
    }

    async login(host: string, port: number, user: string, password: string) {
        this.host = host
        try {
            this.conn = await connect(host, port)
        } catch (e) {
            throw new FtpError(`cannot connect to ${host}:${port}: ${(e as Error).message}`)
        }
        let r = await this.reply()
        if (r.code === 120) r = await this.reply()
        if (r.code !== 220) throw new FtpError(`greeting: ${r.code} ${r.text}`)
        r = await this.command(`USER ${user || "anonymous"}`, [230, 331], "login")
        if (r.code === 331) await this.command(`PASS ${password}`, [230, 202], "login (wrong user or password?)")
        await this.command("TYPE I", [200], "binary mode")
    }

    /** A passive data connection: EPSV, or PASV when the server has no EPSV. */
    private async dataConnection(): Promise<TcpConnection> {
        let r = await this.ask("EPSV")
        let port = r.code === 229 ? epsvPort(r.text) : 0
        if (!port) {
            r = await this.command("PASV", [227], "passive mode")
            const a = pasvAddress(r.text)
            if (!a) throw new FtpError(`passive mode: cannot read "${r.text}"`)
            port = a.port // the control connection's host: servers behind NAT announce private addresses
        }
        try {
            return await connect(this.host, port)
        } catch (e) {
            throw new FtpError(`data connection refused: ${(e as Error).message}`)
        }
    }

    async makeFolder(name: string) {
        await this.ask(`MKD ${name}`) // 257 made, 550 exists: both fine
    }

    /** The server's size of `remote` in bytes (RFC 3659 SIZE, binary type), or -1 (refused, missing). */
    async size(remote: string) {
        const r = await this.ask(`SIZE ${remote}`)
        return r.code === 213 ? parseInt(r.text) : -1
    }

    /**
     * Uploads bytes `from`..`size` produced by `chunk(offset)` to `remote`: STOR from 0, APPE after
     * `from` bytes the server already holds. false when the server refused APPE (nothing was sent).
     */
    async store(remote: string, size: number, chunk: (offset: number) => Promise<Buffer>, from = 0) {
        const data = await this.dataConnection()
        try {
            const r = await this.ask(`${from ? "APPE" : "STOR"} ${remote}`)
            if (r.code !== 125 && r.code !== 150) {
                if (from) return false
                throw new FtpError(`upload ${remote}: ${r.code} ${r.text}`)
            }
            while (from < size) {
                const b = await chunk(from)
                if (!b.length) break
                await data.write(b.length > size - from ? b.slice(0, size - from) : b)
                from += b.length
            }
        } catch (e) {
            if (e instanceof SocketFailure) throw new FtpError(`upload ${remote}: data connection failed: ${(e as Error).message}`)
            throw e
        } finally {
            await data.close()
        }
        await this.expect([226, 250], `upload ${remote}`)
        return true
    }

    private async expect(ok: number[], what: string) {
        const r = await this.reply()
        if (ok.indexOf(r.code) < 0) throw new FtpError(`${what}: ${r.code} ${r.text}`)
    }

    async rename(from: string, to: string) {
        await this.command(`RNFR ${from}`, [350], `rename ${from}`)
        await this.command(`RNTO ${to}`, [250], `rename ${from} to ${to}`)
    }

    async quit() {
        if (!this.conn) return
        try {
            await this.ask("QUIT")
        } catch (e) {
            // leaving anyway
        }
        await this.conn.close()
        this.conn = null
    }
}
