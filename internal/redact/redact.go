// Package redact keeps secrets out of error text and logs, with one placeholder for the whole
// distribution: the one configopaque prints.
package redact

import "strings"

// Placeholder replaces every secret.
const Placeholder = "[REDACTED]"

// Text returns text with every non-empty secret replaced by Placeholder.
func Text(text string, secrets ...string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, Placeholder)
		}
	}
	return text
}

// Error returns err with every non-empty secret replaced by Placeholder, or nil. The result
// deliberately does not unwrap: nothing can reach the original text through it.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return redactedError(Text(err.Error(), secrets...))
}

type redactedError string

func (e redactedError) Error() string { return string(e) }
