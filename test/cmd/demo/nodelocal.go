package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"

	"github.com/labring/otelcol-sealos/test/k8stest"
	"github.com/labring/otelcol-sealos/test/lvmtest"
	"github.com/labring/otelcol-sealos/test/zombietest"
)

// demoNode is the node config/demo.yaml's lvm and zombie receivers report as: this machine.
const demoNode = "demo-healthy"

// prepareLVM makes a 256 MiB volume group on a loop device with a (metadata-only) thin pool, when
// run as root with lvm2 (installed with apt-get when missing). Otherwise it says why and returns a
// copy of config without the lvm receiver. The cleanup removes the volume group.
func prepareLVM(ctx context.Context, config, dir string) (string, func()) {
	vg, err := lvmtest.Create(ctx, dir, "demo", 256<<20)
	if err == nil {
		err = vg.AddThinPool(ctx, "demo_pool", 8, 16)
	}
	if err != nil {
		step("no loop-device volume group (%v): the demo runs WITHOUT the lvm receiver", err)
		if vg != nil {
			_ = vg.Remove()
		}
		stripped, err := withoutReceiver(config, "lvm", dir)
		if err != nil {
			step("cannot remove lvm from %s (%v): the collector will report it failing", config, err)
			return config, func() {}
		}
		return stripped, func() {}
	}
	step("created volume group %s on %s (a file-backed loop device) with thin pool demo_pool", vg.Name, vg.Device)
	return config, func() {
		step("removing volume group %s and %s", vg.Name, vg.Device)
		if err := vg.Remove(); err != nil {
			step("%v", err)
		}
	}
}

// startDemoZombie makes a zombie process in pod demo-node/leaky on demoNode: inside a cgroup shaped
// like containerd's when this process may create cgroups (root, cgroup v2), on the host otherwise.
// The cleanup reaps it.
func startDemoZombie(ctx context.Context, cluster *k8stest.Cluster) func() {
	var b [32]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	pod, err := k8stest.CreatePodOnNode(ctx, cluster.Client, "demo-node", "leaky", demoNode, map[string]string{"app": "containerd://" + id})
	var z *zombietest.Zombie
	if err == nil && os.Geteuid() == 0 {
		slice := "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + strings.ReplaceAll(string(pod.UID), "-", "_") + ".slice"
		z, err = zombietest.Start(zombietest.Options{Cgroup2: slice + "/cri-containerd-" + id + ".scope"})
		if err == nil {
			step("started zombie process %d in pod demo-node/leaky (container app, cgroup of containerd %.12s)", z.PID, id)
		}
	}
	if z == nil {
		if err != nil {
			step("no zombie inside a container cgroup (%v): making one on the host", err)
		}
		if z, err = zombietest.Start(zombietest.Options{}); err != nil {
			step("no demo zombie: %v", err)
			return func() {}
		}
		step("started zombie process %d on the host", z.PID)
	}
	return func() {
		step("reaping zombie process %d", z.PID)
		_ = z.Reap()
	}
}
