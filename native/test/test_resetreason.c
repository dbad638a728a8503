#include "harness.h"
void test_resetreason(void) {}
