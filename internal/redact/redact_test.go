package redact

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestText(t *testing.T) {
	assert.Equal(t, "user:[REDACTED]@host [REDACTED]", Text("user:s3cr3t@host tok", "s3cr3t", "", "tok"))
	assert.Equal(t, "nothing secret", Text("nothing secret"))
}

func TestErrorHidesTheOriginal(t *testing.T) {
	inner := errors.New("dial postgres://u:s3cr3t@db failed")
	err := Error(fmt.Errorf("connect: %w", inner), "s3cr3t")
	require.Error(t, err)
	assert.Equal(t, "connect: dial postgres://u:[REDACTED]@db failed", err.Error())
	assert.NotErrorIs(t, err, inner, "the original text must not be reachable by unwrapping")
	assert.NoError(t, Error(nil, "s3cr3t"))
}
