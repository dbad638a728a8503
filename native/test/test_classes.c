// The service classes the chip announces must be the contracts' identifiers (services/*.md), or
// the firmware's roles never bind.
#include "harness.h"
#include "sockets.h"
#include "filestore.h"
#include "accesspoint.h"
#include "resetreason.h"
#include "serial.h"
#include <stdlib.h>

static long contract_identifier(const char *file) {
    const char *dirs[] = {"services/", "../../services/", "../services/"};
    for (int i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s%s", dirs[i], file);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        char line[200];
        long id = -1;
        while (fgets(line, sizeof(line), f))
            if (strstr(line, "identifier:")) {
                id = strtol(strstr(line, "0x"), NULL, 16);
                break;
            }
        fclose(f);
        return id;
    }
    printf("#   %s not found\n", file);
    return -1;
}

static void service_classes_are_the_contracts_identifiers(void) {
    CHECK_EQ(SS_SERVICE_CLASS, contract_identifier("streamsockets.md"));
    CHECK_EQ(FS_SERVICE_CLASS, contract_identifier("filestore.md"));
    CHECK_EQ(AP_SERVICE_CLASS, contract_identifier("wifiaccesspoint.md"));
    CHECK_EQ(RR_SERVICE_CLASS, contract_identifier("resetreason.md"));
    CHECK_EQ(SER_SERVICE_CLASS, 297461188); // the standard Jacdac Serial service
}

void test_classes(void) {
    RUN(service_classes_are_the_contracts_identifiers);
}
