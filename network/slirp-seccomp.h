/* slirp-seccomp.h — sandbox-slirp's seccomp allow-list. */
#pragma once

/* Installs it (no_new_privs is the jail's); 0, or -errno said on stderr. */
int slirp_seccomp_install (void);
