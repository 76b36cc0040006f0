/* accel.h — choosing between KVM and TCG for the guests. */
#pragma once

#include "sandbox.h"

/* @requested is "auto", "kvm" or "tcg". "auto" takes KVM only if a real
 * QEMU can start a microvm with it (a /dev/kvm that opens is not enough:
 * nested KVM can be broken); "kvm" fails if it can't. */
gboolean accel_choose (const char *qemu, const char *requested, Accel *accel, char **reason,
                       GError **error);
const char *accel_to_string (Accel accel);
/* The host TSC rate in kHz, 0 if unknown. */
guint accel_host_tsc_khz (void);
