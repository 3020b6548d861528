package gatestatus

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/component"
)

func TestRegisterLookupUnregister(t *testing.T) {
	id := component.MustNewID("node")
	elector := component.MustNewIDWithName("leader_election", "cluster")
	_, ok := Lookup(id)
	assert.False(t, ok)

	unregisterOld := Register(id, Gate{Elector: elector, Leading: func() bool { return false }})
	g, ok := Lookup(id)
	assert.True(t, ok)
	assert.Equal(t, elector, g.Elector)
	assert.False(t, g.Leading())

	// A reload: the new receiver registers before the old one's late unregister.
	unregisterNew := Register(id, Gate{Elector: elector, Leading: func() bool { return true }})
	unregisterOld()
	g, ok = Lookup(id)
	assert.True(t, ok, "the old receiver's unregister must not remove the new registration")
	assert.True(t, g.Leading())

	unregisterNew()
	unregisterNew()
	_, ok = Lookup(id)
	assert.False(t, ok)
}
