//go:build !linux

package main

import "os/exec"

// endWithParent does nothing here: only Linux tells a child its parent died. A local worker
// of a coordinator killed with SIGKILL runs on until stopped (its broker is gone with the
// coordinator; a stop or Ctrl-C of the coordinator does stop it).
func endWithParent(*exec.Cmd) {}
