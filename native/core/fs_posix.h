// fs_ops_t on POSIX file calls: ESP-IDF's VFS (FATFS on the card) and the PC's file system.
#pragma once
#include "filestore.h"

extern const fs_ops_t fs_posix_ops;
