/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SR-IOV: virtual functions (sriov/).  Included by hostdev.h. */
#pragma once
