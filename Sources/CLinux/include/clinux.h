/*
 * clinux.h: the Linux interfaces Swift's Glibc module does not give the
 * core: KVM, epoll, eventfd and timerfd declarations, KVM's ioctl request
 * numbers (function-like macros) and ioctl itself (variadic). Atomic
 * accesses to words shared with a running guest are in guest_shared.h.
 */
#ifndef CLINUX_H
#define CLINUX_H

#include <linux/kvm.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>

static const unsigned long CKVM_GET_API_VERSION = KVM_GET_API_VERSION;
static const unsigned long CKVM_CREATE_VM = KVM_CREATE_VM;
static const unsigned long CKVM_CHECK_EXTENSION = KVM_CHECK_EXTENSION;
static const unsigned long CKVM_GET_VCPU_MMAP_SIZE = KVM_GET_VCPU_MMAP_SIZE;
static const unsigned long CKVM_GET_SUPPORTED_CPUID = KVM_GET_SUPPORTED_CPUID;
static const unsigned long CKVM_CREATE_VCPU = KVM_CREATE_VCPU;
static const unsigned long CKVM_SET_USER_MEMORY_REGION = KVM_SET_USER_MEMORY_REGION;
static const unsigned long CKVM_IOEVENTFD = KVM_IOEVENTFD;
static const uint32_t CKVM_IOEVENTFD_FLAG_PIO = KVM_IOEVENTFD_FLAG_PIO;
static const unsigned long CKVM_SET_CPUID2 = KVM_SET_CPUID2;
static const unsigned long CKVM_GET_SREGS = KVM_GET_SREGS;
static const unsigned long CKVM_SET_SREGS = KVM_SET_SREGS;
static const unsigned long CKVM_GET_REGS = KVM_GET_REGS;
static const unsigned long CKVM_SET_REGS = KVM_SET_REGS;
static const unsigned long CKVM_SET_FPU = KVM_SET_FPU;
static const unsigned long CKVM_GET_TSC_KHZ = KVM_GET_TSC_KHZ;
static const unsigned long CKVM_RUN = KVM_RUN;
/* solo5-hvt-debug */
static const unsigned long CKVM_SET_GUEST_DEBUG = KVM_SET_GUEST_DEBUG;

/* ioctl with a pointer argument (or none). */
static inline int ckvm_ioctl(int fd, unsigned long request, void *arg)
{
    return ioctl(fd, request, arg);
}

/* ioctl with an integer argument. */
static inline int ckvm_ioctl_value(int fd, unsigned long request, unsigned long value)
{
    return ioctl(fd, request, value);
}

/* The guest's MSR filter (Tender/KVM/MSRFilter.swift). */
static const unsigned long CKVM_X86_SET_MSR_FILTER = KVM_X86_SET_MSR_FILTER;
static const uint32_t CKVM_MSR_FILTER_DEFAULT_DENY = KVM_MSR_FILTER_DEFAULT_DENY;
static const uint32_t CKVM_MSR_FILTER_READ = KVM_MSR_FILTER_READ;
static const uint32_t CKVM_MSR_FILTER_WRITE = KVM_MSR_FILTER_WRITE;

#include "guest_shared.h"

#endif
