//go:build linux

package main

import (
	"os/exec"
	"syscall"
)

// endWithParent has the kernel kill a local worker when its coordinator ends, however it ends
// (kill -9, an out-of-memory kill): the worker's broker ends with the coordinator, so an
// orphan would never serve again, and one with an LLM backend holds keys in its environment.
// SIGKILL, not SIGTERM: with its broker gone, a stopping worker has nothing to hand back, and
// waited on it for seconds (QA16 F8: a worker still there 3 s after its coordinator's kill);
// the calls it had in flight end with its connections either way.
func endWithParent(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
