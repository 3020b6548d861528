package k8stest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// KillAPIServer ends the kube-apiserver process with SIGKILL, as a crash or an OOM kill would; etcd
// keeps running, so RestartAPIServer brings back the same data on the same port.
func (c *Cluster) KillAPIServer() error {
	pid, err := c.apiServerPid()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/cmdline", pid)); err != nil {
			return c.env.ControlPlane.GetAPIServer().Stop() // reaps it; the process is gone already
		}
	}
	return fmt.Errorf("kube-apiserver %d still running 10s after SIGKILL", pid)
}

// RestartAPIServer starts kube-apiserver again with the same port, certificates and etcd, and
// waits until it is healthy.
func (c *Cluster) RestartAPIServer() error {
	return c.env.ControlPlane.GetAPIServer().Start()
}

// apiServerPid finds this cluster's kube-apiserver among the processes by its certificate folder.
func (c *Cluster) apiServerPid() (int, error) {
	certDir := c.env.ControlPlane.GetAPIServer().CertDir
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := bytes.Split(cmdline, []byte{0})
		if filepath.Base(string(args[0])) == "kube-apiserver" && bytes.Contains(cmdline, []byte(certDir+"/")) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no kube-apiserver process with certificates in %s", certDir)
}
