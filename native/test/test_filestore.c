#include "harness.h"
void test_filestore(void) {}
