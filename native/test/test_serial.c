#include "harness.h"
void test_serial(void) {}
