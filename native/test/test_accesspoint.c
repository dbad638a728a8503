#include "harness.h"
void test_accesspoint(void) {}
