package imagepullreceiver

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// The Event reasons the kubelet's image manager records (pkg/kubelet/events); one informer each,
// filtered by the API server.
var pullReasons = []string{"Pulling", "Pulled", "Failed", "BackOff"}

// eventKind is what an Event says about a pull.
type eventKind uint8

const (
	kindOther    eventKind = iota // same reason, not about an image pull (e.g. a crash-loop back-off)
	kindPulling                   // Pulling image "x"
	kindPulled                    // Successfully pulled image "x" in ...
	kindCacheHit                  // Container image "x" already present on machine
	kindFailed                    // Failed to pull image "x": ...
	kindBackOff                   // Back-off pulling image "x"
)

// pullEvent is what the informer caches of an Event: its identity, which container's pull it is
// about, and what the message says. About 200 bytes, whatever the message length.
type pullEvent struct {
	identity
	kind           eventKind
	pod            types.UID // involvedObject.uid
	container      string    // from involvedObject.fieldPath
	node, registry string
	occurrences    int32   // count, or series.count for the events.k8s.io form
	last           int64   // Unix nanoseconds of the last occurrence
	seconds        float64 // pull time (kindPulled); < 0 if the message has none
	bytes          int64   // image size (kindPulled); < 0 if the message has none
}

// DeepCopyObject returns e: a pullEvent is never modified after the transform built it.
func (e *pullEvent) DeepCopyObject() runtime.Object { return e }

// eventTransform strips a decoded Event to a *pullEvent before the informer caches it. Events of
// an excluded registry, or not about a pull, keep only their identity and count.
func eventTransform(regs registries) cache.TransformFunc {
	return func(obj any) (any, error) {
		ev, ok := obj.(*corev1.Event)
		if !ok {
			return obj, nil // a deletion tombstone, or already transformed
		}
		out := &pullEvent{
			identity: identityOf(ev), occurrences: occurrences(ev), last: lastOccurrence(ev).UnixNano(), seconds: -1, bytes: -1,
		}
		msg := parseMessage(ev.Reason, ev.Message)
		if msg.kind == kindOther || ev.InvolvedObject.Kind != "Pod" {
			return out, nil
		}
		registry := registryOf(msg.image)
		if !regs.allowed(registry) {
			return out, nil
		}
		out.kind, out.registry, out.seconds, out.bytes = msg.kind, registry, msg.seconds, msg.bytes
		out.pod, out.container = ev.InvolvedObject.UID, intern(containerOf(ev.InvolvedObject.FieldPath))
		out.node = intern(reportingNode(ev))
		return out, nil
	}
}

// reportingNode is the node whose kubelet wrote the event: source.host in the core/v1 form,
// reportingInstance in the events.k8s.io form.
func reportingNode(ev *corev1.Event) string {
	if ev.Source.Host != "" {
		return ev.Source.Host
	}
	return ev.ReportingInstance
}

// occurrences is how many times the event happened: count (core/v1 recorder) or series.count
// (events.k8s.io recorder, whose first occurrence has no series).
func occurrences(ev *corev1.Event) int32 {
	n := max(ev.Count, 1)
	if ev.Series != nil {
		n = max(n, ev.Series.Count)
	}
	return n
}

// lastOccurrence is the most precise time of the latest occurrence the event carries.
func lastOccurrence(ev *corev1.Event) time.Time {
	switch {
	case ev.Series != nil && !ev.Series.LastObservedTime.IsZero():
		return ev.Series.LastObservedTime.Time
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	case !ev.FirstTimestamp.IsZero():
		return ev.FirstTimestamp.Time
	default:
		return ev.CreationTimestamp.Time
	}
}

// containerOf reads the container name from a fieldPath such as spec.containers{app} or
// spec.initContainers{init}.
func containerOf(fieldPath string) string {
	open := strings.IndexByte(fieldPath, '{')
	if open < 0 || !strings.HasSuffix(fieldPath, "}") {
		return ""
	}
	return fieldPath[open+1 : len(fieldPath)-1]
}

// containerKey indexes pull events by the container they are about.
func containerKey(pod types.UID, container string) string { return string(pod) + "/" + container }

const byContainer = "container"

// indexByContainer is the informer index the slow-pull check reads.
func indexByContainer(obj any) ([]string, error) {
	if e, ok := obj.(*pullEvent); ok && e.kind != kindOther {
		return []string{containerKey(e.pod, e.container)}, nil
	}
	return nil, nil
}

// message is what a kubelet image event's message says.
type message struct {
	kind    eventKind
	image   string
	seconds float64
	bytes   int64
}

// The kubelet's messages (pkg/kubelet/images/image_manager.go); the image is quoted with %q.
var messagePrefixes = []struct {
	reason, prefix string
	kind           eventKind
}{
	{"Pulling", "Pulling image ", kindPulling},
	{"Pulled", "Successfully pulled image ", kindPulled},
	{"Pulled", "Container image ", kindCacheHit},
	{"Failed", "Failed to pull image ", kindFailed},
	{"BackOff", "Back-off pulling image ", kindBackOff},
}

// combinedPrefix starts the message of an event the core/v1 recorder aggregated from similar ones.
const combinedPrefix = "(combined from similar events): "

// pulledDetails reads what follows the image in a Pulled message, in all three kubelet forms:
// ` in 3.2s`, ` in 3.2s (3.5s including waiting)`, and the latter + `. Image size: N bytes.`
// The first duration is the pull itself; waiting for a parallel-pull slot is left out.
var pulledDetails = regexp.MustCompile(`^ in ([0-9.]+[a-zµ]+[0-9.a-zµ]*)(?: \(([0-9.]+[a-zµ]+[0-9.a-zµ]*) including waiting\))?(?:\. Image size: ([0-9]+) bytes)?\.?$`)

// parseMessage reads a kubelet image event; kind is kindOther for anything else.
func parseMessage(reason, text string) message {
	text = strings.TrimPrefix(text, combinedPrefix)
	for _, p := range messagePrefixes {
		if p.reason != reason || !strings.HasPrefix(text, p.prefix) {
			continue
		}
		quoted, err := strconv.QuotedPrefix(text[len(p.prefix):])
		if err != nil {
			return message{}
		}
		image, _ := strconv.Unquote(quoted) // QuotedPrefix returned a valid quoted string
		rest := text[len(p.prefix)+len(quoted):]
		m := message{kind: p.kind, image: image, seconds: -1, bytes: -1}
		switch p.kind {
		case kindCacheHit:
			if !strings.HasPrefix(rest, " already present on machine") {
				return message{}
			}
		case kindPulled:
			if d := pulledDetails.FindStringSubmatch(rest); d != nil {
				if took, err := time.ParseDuration(d[1]); err == nil {
					m.seconds = took.Seconds()
				}
				if size, err := strconv.ParseInt(d[3], 10, 64); err == nil {
					m.bytes = size
				}
			}
		}
		return m
	}
	return message{}
}
