#ifndef CELERIAC_CHIREDIS_SHIM_H
#define CELERIAC_CHIREDIS_SHIM_H
// hiredis 0.14 from Debian's libhiredis-dev. Only Core/Redis imports this module.
#include <hiredis/hiredis.h>
#endif
