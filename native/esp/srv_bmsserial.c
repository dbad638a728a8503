// Serial service "bms" on UART1 (the BMS port): ESP-IDF's UART driver buffers what arrives; the
// Jacdac loop moves it into `received` reports every turn. Overruns the driver reports (hardware
// FIFO overflow, driver buffer full) are said on the console.
#include "native.h"
#include "serial.h"
#include "driver/uart.h"
#include "freertos/queue.h"

#define RX_BUFFER 2048
#define TX_BUFFER 512

struct srv_state {
    SRV_COMMON;
    ser_core_t core;
    QueueHandle_t events;
};

static int u_read(void *ctx, uint8_t *buf, unsigned max) {
    (void)ctx;
    return uart_read_bytes(NATIVE_BMS_UART, buf, max, 0);
}

static int u_write(void *ctx, const uint8_t *data, unsigned len) {
    (void)ctx;
    return uart_write_bytes(NATIVE_BMS_UART, data, len);
}

static int u_set_baud(void *ctx, uint32_t baud) {
    (void)ctx;
    return uart_set_baudrate(NATIVE_BMS_UART, baud) == ESP_OK ? 0 : -1;
}

static uint32_t u_take_lost(void *ctx) {
    srv_t *state = ctx;
    uint32_t lost = 0;
    uart_event_t ev;
    while (xQueueReceive(state->events, &ev, 0) == pdTRUE)
        if (ev.type == UART_FIFO_OVF || ev.type == UART_BUFFER_FULL)
            lost++;
    if (lost)
        uart_flush_input(NATIVE_BMS_UART); // what is left is cut anyway: start clean
    return lost;
}

static const ser_ops_t uart_ops = {u_read, u_write, u_set_baud, u_take_lost};

static int emit(void *ctx, uint16_t code, const void *data, unsigned len) {
    srv_t *state = ctx;
    return native_send(state, state->service_index, code, data, len);
}

static void bmsserial_process(srv_t *state) {
    ser_poll(&state->core);
}

static void bmsserial_handle_packet(srv_t *state, jd_packet_t *pkt) {
    if (!ser_handle(&state->core, pkt->service_command, pkt->data, pkt->service_size))
        jd_send_not_implemented(pkt);
}

SRV_DEF(bmsserial, SER_SERVICE_CLASS);

void native_bmsserial_init(void) {
    SRV_ALLOC(bmsserial);
    uart_config_t cfg = {
        .baud_rate = NATIVE_BMS_BAUD,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
        .source_clk = UART_SCLK_DEFAULT,
    };
    ESP_ERROR_CHECK(uart_driver_install(NATIVE_BMS_UART, RX_BUFFER, TX_BUFFER, 8, &state->events, 0));
    ESP_ERROR_CHECK(uart_param_config(NATIVE_BMS_UART, &cfg));
    ESP_ERROR_CHECK(uart_set_pin(NATIVE_BMS_UART, NATIVE_BMS_TX, NATIVE_BMS_RX, UART_PIN_NO_CHANGE,
                                 UART_PIN_NO_CHANGE));
    // the driver moves received bytes on at its FIFO threshold (120) or after the line was quiet
    // for rx_timeout symbols: ESP-IDF's default 10 (11.5 ms at 9600 baud) would add that to every
    // reply of the poll (about 100 ms per 0xA5 cycle); 2 symbols still keep a reply burst whole
    ESP_ERROR_CHECK(uart_set_rx_timeout(NATIVE_BMS_UART, 2));
    ser_init(&state->core, &uart_ops, state, NATIVE_BMS_BAUD, emit, state);
    state->core.log = native_log;
    DMESG("BMS UART%d: TX GPIO%d, RX GPIO%d, %d baud", NATIVE_BMS_UART, NATIVE_BMS_TX,
          NATIVE_BMS_RX, NATIVE_BMS_BAUD);
}
