//go:build !linux

package dynalitetest

import "syscall"

// sysProcAttr: only Linux can tie the emulator's life to the test binary; elsewhere Close does.
func sysProcAttr() *syscall.SysProcAttr { return nil }
