/*
 * mft_default.c: the manifest of guests that declare no devices (only the
 * reserved entry). Built into an archive so that it is linked only when the
 * guest does not define kit_mft_note itself; start.c references it.
 */
#define KIT_INTERNAL
#include "kit.h"

KIT_MFT_NOTE_DEFINE(1, );

_Static_assert(offsetof(KIT_MFT_NOTE_TYPE(1), m) ==
                   sizeof(struct solo5_nhdr) + MFT1_NOTE_DESC_PAD,
               "mft offset inside the note");
_Static_assert(offsetof(KIT_MFT_NOTE_TYPE(1), e) % 8 == 0,
               "manifest entries 8-aligned inside the note");
