package k8stest

import "testing"

// StartT starts an API server for one test and stops it when the test ends.
func StartT(t testing.TB) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real API server; skipped with -short")
	}
	c, err := Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	return c
}
