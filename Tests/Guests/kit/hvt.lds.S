/*
 * hvt.lds.S: linker script for the hvt test guests, run through the C
 * preprocessor: hvt.lds (ABI version 2) and, with KIT_ABI_VERSION=1 or 0,
 * hvt_v1.lds and hvt_v0.lds.
 *
 * Layout (all page aligned, loaded from 0x100000 upwards, no ELF headers in
 * any segment):
 *   text      PT_LOAD R+X  .text
 *   noaccess  PT_LOAD ---  .noaccess (one page; exec_noaccess jumps in)
 *   rodata    PT_LOAD R    notes, .rodata
 * then, as Solo5's hvt ABI version 2 (0.8 onwards):
 *   data      PT_LOAD RW   .data
 *   tdata     PT_LOAD R    .tdata (the TLS image, padded to a page)
 *   tbss      PT_TLS  ---  .tbss
 *   bss       PT_LOAD RW   .bss
 * or, as version 1 (0.6 and 0.7), one segment with no PT_TLS:
 *   data      PT_LOAD RW   .data .tdata | .tbss .bss
 * and one PT_NOTE per Solo5 note (the tender expects one note per PT_NOTE).
 * Before 0.6 (version "0") there are no notes and no noaccess segment: the
 * manifest the guest declares stays in .rodata for the kit (kit_v0.c), and
 * a PT_GNU_STACK follows the PT_LOADs, as in those executables.
 * No segment is both writable and executable.
 */
#ifndef KIT_ABI_VERSION
#define KIT_ABI_VERSION 2
#endif
#if KIT_ABI_VERSION == 2
#define TDATA tdata
#define TBSS tbss
#define BSS bss
#else
#define TDATA data
#define TBSS data
#define BSS data
#endif
#if KIT_ABI_VERSION == 0
#define NOTE_ABI
#define NOTE_MANIFEST
#else
#define NOTE_ABI :note_abi
#define NOTE_MANIFEST :note_manifest
#endif
ENTRY(_start)

PHDRS {
    text PT_LOAD FLAGS(5);          /* PF_R | PF_X */
#if KIT_ABI_VERSION != 0
    noaccess PT_LOAD FLAGS(0);      /* no permissions at all */
#endif
    rodata PT_LOAD FLAGS(4);        /* PF_R */
    data PT_LOAD FLAGS(6);          /* PF_R | PF_W */
#if KIT_ABI_VERSION == 2
    tdata PT_LOAD FLAGS(4);         /* PF_R: copied into each TLS block */
    tbss PT_TLS FLAGS(0);
    bss PT_LOAD FLAGS(6);           /* PF_R | PF_W */
#endif
#if KIT_ABI_VERSION == 0
    stack PT_GNU_STACK FLAGS(6);
#else
    note_abi PT_NOTE FLAGS(4);
    note_manifest PT_NOTE FLAGS(4);
#endif
}

SECTIONS {
    . = 0x100000;

    _stext = .;
    .text : {
        *(.text.start)
        *(.text .text.*)
    } :text
    . = ALIGN(0x1000);
    _etext = .;

#if KIT_ABI_VERSION != 0
    /* Always one page (or more), filled with int3. */
    .noaccess : {
        _snoaccess = .;
        KEEP(*(.noaccess))
        BYTE(0xcc)
        . = ALIGN(0x1000);
    } :noaccess =0xcccccccc
    _enoaccess = .;
#endif

    .note.solo5.abi : {
        KEEP(*(.note.solo5.abi))
    } :rodata NOTE_ABI
    /* 8-aligned address, so the mft at offset 24 is 8-aligned too. */
    . = ALIGN(8);
    .note.solo5.manifest : {
        KEEP(*(.note.solo5.manifest))
    } :rodata NOTE_MANIFEST
    .rodata : {
        *(.rodata .rodata.*)
    } :rodata
    .eh_frame : {
        *(.eh_frame)
    } :rodata
    . = ALIGN(0x1000);
    _erodata = .;

    .data : {
        *(.got.plt) *(.got)
        *(.data .data.*)
    } :data
#if KIT_ABI_VERSION == 2
    . = ALIGN(0x1000);
#endif
    /* .tdata and .tbss side by side: the TLS template. */
    .tdata : {
        *(.tdata .tdata.*)
#if KIT_ABI_VERSION == 2
        . = ALIGN(0x1000);
#endif
    } :TDATA
    . = ALIGN(0x1000);
    _edata = .;

    .tbss : {
        *(.tbss .tbss.*)
    } :TBSS
    .bss : {
        *(.bss .bss.*)
        *(COMMON)
    } :BSS
    . = ALIGN(0x1000);
    _ebss = .;
    _end = .;

    /* The TLS template, for guests that set up TLS (only they refer to it). */
    PROVIDE(kit_tls_image = ADDR(.tdata));
    PROVIDE(kit_tls_image_size = SIZEOF(.tdata));
    PROVIDE(kit_tls_size = ADDR(.tbss) + SIZEOF(.tbss) - ADDR(.tdata));

    /DISCARD/ : {
        *(.note.gnu.*)
        *(.note.GNU-stack)
        *(.comment)
        *(.interp)
    }
}
