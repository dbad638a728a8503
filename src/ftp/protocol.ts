// FTP (RFC 959, RFC 2428) replies and the bookkeeping of sent files. Pure.
import { splitText } from "../platform/text"
export interface FtpReply {
    code: number
    text: string
}

/** Collects reply lines; a multi-line reply ("123-...") ends with the line "123 ...". */
export class ReplyReader {
    private code = 0
    private text = ""

    /** A whole reply, or null while more lines are needed. */
    push(line: string): FtpReply {
        const code = parseInt(line.slice(0, 3))
        const sep = line.charAt(3)
        if (this.code) {
            this.text += "\n" + line
            if (code === this.code && sep === " ") return this.finish()
            return null
        }
        if (!(code >= 100 && code <= 599)) return null // noise outside a reply
        if (sep === "-") {
            this.code = code
            this.text = line.slice(4)
            return null
        }
        return { code, text: line.slice(4) }
    }

    private finish() {
        const r = { code: this.code, text: this.text }
        this.code = 0
        this.text = ""
        return r
    }
}

/** The data port of "229 Entering Extended Passive Mode (|||6446|)", or 0. */
export function epsvPort(text: string) {
    const open = text.indexOf("(")
    const close = text.indexOf(")", open)
    if (open < 0 || close < 0) return 0
    const inner = text.slice(open + 1, close)
    const d = inner.charAt(0)
    const parts = splitText(inner, d)
    const port = parseInt(parts[3])
    return port > 0 && port < 65536 ? port : 0
}

/** Host and port of "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)", or null. */
export function pasvAddress(text: string) {
    const open = text.indexOf("(")
    const close = text.indexOf(")", open)
    if (open < 0 || close < 0) return null
    const n = splitText(text.slice(open + 1, close), ",").map(s => parseInt(s))
    if (n.length !== 6) return null
    for (const v of n) if (!(v >= 0 && v <= 255)) return null
    return { host: `${n[0]}.${n[1]}.${n[2]}.${n[3]}`, port: n[4] * 256 + n[5] }
}

/** One line of LOGSENT.TXT / CELLSENT.TXT: name, size in bytes, when it was sent. */
export function sentLine(name: string, size: number, time: string) {
    return `${name},${size},${time}\r\n`
}

/** The largest size sent of each file, from the text of a *SENT.TXT file. */
export function parseSent(text: string): Record<string, number> {
    const sent: Record<string, number> = {}
    for (const line of splitText(text, "\n")) {
        const parts = splitText(line.trim(), ",")
        if (parts.length < 3) continue
        const size = parseInt(parts[1])
        if (size >= 0 && !(sent[parts[0]] >= size)) sent[parts[0]] = size
    }
    return sent
}

export interface LogFile {
    name: string // 20261121.CSV
    size: number
}

/**
 * The files to upload: not sent yet, or grown since (today's file grows all day and is sent again
 * as it grows), or dated from `resendFrom` (YYYYMMDD, "" for none) on.
 */
export function filesToSend(files: LogFile[], sent: Record<string, number>, resendFrom: string) {
    const out: LogFile[] = []
    for (const f of files) {
        const date = f.name.slice(0, 8)
        if (resendFrom && date >= resendFrom) out.push(f)
        else if (sent[f.name] === undefined || sent[f.name] < f.size) out.push(f)
    }
    return out
}
