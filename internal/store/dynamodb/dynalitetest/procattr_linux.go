package dynalitetest

import "syscall"

// sysProcAttr has the kernel kill the emulator when the thread that started it ends, so a test
// binary that crashes or is killed leaves no node process behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
