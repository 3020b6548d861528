package hostnode

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNameFromEnv(t *testing.T) {
	t.Setenv("K8S_NODE_NAME", "")
	t.Setenv("NODE_NAME", "")
	assert.Empty(t, NameFromEnv())

	t.Setenv("NODE_NAME", "node-b")
	assert.Equal(t, "node-b", NameFromEnv())

	t.Setenv("K8S_NODE_NAME", "node-a")
	assert.Equal(t, "node-a", NameFromEnv(), "K8S_NODE_NAME wins")
}

func TestCheckName(t *testing.T) {
	assert.NoError(t, CheckName("node-a"))
	err := CheckName("")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "node_name:")
	assert.Contains(t, err.Error(), "K8S_NODE_NAME")
}
