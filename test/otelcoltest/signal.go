package otelcoltest

import "os"

// Signal sends sig to the collector (e.g. syscall.SIGHUP to make it reload its configuration).
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }
