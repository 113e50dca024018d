/* ef_meo_topo.h: a test topology of network namespaces for the MEO netns driver (one per MEC system, joined by a bridge).
 *
 * Threading: runs `ip` (root); one caller at a time per prefix.
 */
#ifndef EF_MEO_TOPO_H
#define EF_MEO_TOPO_H

#include <stdint.h>

#include "base/ef_err.h"

/* Test topology for the netns driver (root). Creates namespaces
 * "<prefix>hub" (a bridge "br0") and "<prefix>0" .. "<prefix>{n-1}", each joined
 * to the bridge by a veth pair ("ul0" inside the MEC namespace) with underlay
 * address 10.<net>.0.(i+1)/24 (net = underlay_octet, e.g. 77). Nothing is added
 * to the root namespace. prefix must be a name of at most 10 chars; n <= 250.
 * Errors: EF_EPERM (not root), EF_EINVAL, EF_EEXIST (a namespace of that name
 * exists: nothing is touched), EF_EIO (an `ip` step failed: whatever was
 * created is destroyed). */
int ef_meo_topo_create(const char *prefix, unsigned n, uint8_t underlay_octet) EF_MUST_USE;
/* Deletes the namespaces ef_meo_topo_create made (by prefix, for i < n) and the
 * hub; idempotent (missing namespaces are fine). 0 or EF_EIO. */
int ef_meo_topo_destroy(const char *prefix, unsigned n);

#endif
