#include "harness.h"
void test_mdns(void) {}
