//go:build linux

package main

import (
	"os/exec"
	"syscall"
)

// endWithParent has the kernel send a local worker SIGTERM when its coordinator ends, however
// it ends (kill -9, an out-of-memory kill): the worker's broker ends with the coordinator, so
// an orphan would never serve again, and one with an LLM backend holds keys in its environment.
func endWithParent(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} }
