// GET /metrics: public and read-only like /api/status, unless ports.metrics is off (404).
import * as ds from "@devicescript/core"
import { bmsLink, currentSnapshot, pollingPaused } from "../bms/store"
import { ftpStatus } from "../ftp/uploader"
import { mqttStatus } from "../mqtt/uplink"
import { sdStatus } from "../sdlog/logger"
import { setting } from "../settings/store"
import { wifiSignalDbm } from "../net/wifi"
import { deviceInfo } from "./api"
import { BodyWriter, HttpRequest, HttpResponse, problem } from "./http"
import { METRICS_TYPE, writeMetrics } from "./metrics"
import { bmsJson } from "./status"

export const METRICS_PATH = "/metrics"

export async function handleMetrics(req: HttpRequest): Promise<HttpResponse> {
    if (!setting("ports.metrics")) return problem(404, "metrics are turned off (setting ports.metrics)")
    const v: any = bmsJson(bmsLink, pollingPaused, currentSnapshot(), ds.millis())
    const dev = deviceInfo()
    v.uptime_s = dev.uptime_s
    v.reset_counter = dev.reset_counter
    if (v.balancing) {
        v.balancing_bits = []
        for (let i = 1; i <= v.cells_mv.length; i++) v.balancing_bits.push(v.balancing.indexOf(i) < 0 ? 0 : 1)
    }
    const sd = sdStatus
    v.sd = sd.state
    v.sd_rows = sd.rows
    v.ftp = ftpStatus.state
    v.mqtt = mqttStatus.state
    v.wifi_rssi = await wifiSignalDbm()
    return { status: 200, type: METRICS_TYPE, body: "", stream: async (w: BodyWriter) => await writeMetrics(v, async (t: string) => await w.write(t)) }
}
