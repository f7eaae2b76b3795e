/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mediated devices (mdev/).  Included by hostdev.h. */
#pragma once
