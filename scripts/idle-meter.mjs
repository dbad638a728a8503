// Resident memory and CPU time of a process tree, from /proc (Linux): the host runtime is one Node
// process (its DeviceScript VM runs inside it); any child it started would be counted too.
import fs from "node:fs"

const CLOCK_TICKS = 100 // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux

function children(pid) {
    try {
        return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number)
    } catch {
        return []
    }
}

/** pid and every descendant. */
export function processTree(pid) {
    const all = [pid]
    for (let i = 0; i < all.length; i++) all.push(...children(all[i]))
    return all
}

function sample(pid) {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ") // after "pid (comm) "
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
        const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
        const name = /Name:\s+(\S+)/.exec(status)?.[1]
        return { pid, name, cpuTicks: Number(fields[11]) + Number(fields[12]), rss }
    } catch {
        return null // gone
    }
}

/**
 * Measures the tree of `pid` for `ms`: CPU % of one core per process and in all, resident memory
 * per process (the highest of samples every second) and in all.
 */
export async function measureTree(pid, ms, label = p => String(p.pid)) {
    const first = new Map(processTree(pid).map(p => [p, sample(p)]).filter(([, s]) => s))
    const rssMax = new Map()
    const t0 = process.hrtime.bigint()
    const end = Date.now() + ms
    let last = first
    while (Date.now() < end) {
        await new Promise(r => setTimeout(r, Math.min(1000, Math.max(0, end - Date.now()))))
        last = new Map(processTree(pid).map(p => [p, sample(p)]).filter(([, s]) => s))
        for (const [p, s] of last) rssMax.set(p, Math.max(rssMax.get(p) ?? 0, s.rss))
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    const processes = [...last.values()].map(s => {
        const before = first.get(s.pid)
        const cpu = before ? (100 * (s.cpuTicks - before.cpuTicks)) / CLOCK_TICKS / seconds : null
        return { pid: s.pid, name: label(s), cpuPercent: cpu, rssBytes: rssMax.get(s.pid) ?? s.rss }
    })
    return {
        seconds,
        processes,
        cpuPercent: processes.reduce((t, p) => t + (p.cpuPercent ?? 0), 0),
        rssBytes: processes.reduce((t, p) => t + p.rssBytes, 0),
    }
}
