#ifndef TOUCHLOG_CZLIB_SHIM_H
#define TOUCHLOG_CZLIB_SHIM_H
#include <zlib.h>
#endif
