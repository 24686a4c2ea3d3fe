package bmv2env

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
)

// Proc is a process that a test started in a process group of its own, so
// that signals reach exactly what the test started (the process and any
// children) and nothing else on the machine. The BMv2 switch and the
// Tofino model harness (tests/internal/tofinomodel) both run their
// processes through it.
type Proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// StartProc starts cmd in a new process group, its standard output and
// error going to log.
func StartProc(cmd *exec.Cmd, log io.Writer) (*Proc, error) {
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id, which is also its process group id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Alive reports whether the process has not exited.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Signal sends sig to the process group.
func (p *Proc) Signal(sig syscall.Signal) error {
	if !p.Alive() {
		return errors.New("not running")
	}
	return syscall.Kill(-p.Pid(), sig)
}

// Kill sends SIGKILL to the process group and waits for the process to
// exit.
func (p *Proc) Kill() {
	if p.Alive() {
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	}
	<-p.done
}
