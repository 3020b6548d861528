package watchfileprovider

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(validatingEnv) != "":
		os.Exit(0) // the validate child of TestValidatorRunsTheRunningImage: the running image answers
	case os.Getenv(roleEnv) == "collector":
		playCollector()
	}
	goleak.VerifyTestMain(m)
}

const debounce = 100 * time.Millisecond

// quiet: long enough that a notification, if one were coming, would have come.
const quiet = 10 * debounce

// fakeValidator stands in for the `validate` child (a test binary is not the collector): it
// reads the file as the child would and rejects content containing "invalid".
type fakeValidator struct {
	path  string
	calls atomic.Int32

	mu   sync.Mutex
	runs []validation
}

// validation is what one validate run read, and when.
type validation struct {
	content string
	at      time.Time
}

func (v *fakeValidator) validate(context.Context) error {
	v.calls.Add(1)
	b, err := os.ReadFile(v.path)
	v.mu.Lock()
	v.runs = append(v.runs, validation{content: string(b), at: time.Now()})
	v.mu.Unlock()
	if err != nil {
		return err
	}
	if strings.Contains(string(b), "invalid") {
		return errors.New("'receivers::node::collection_interval' invalid")
	}
	return nil
}

func (v *fakeValidator) validations() []validation {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.runs)
}

// notifications counts watcher calls and checks none carries an error.
type notifications struct {
	mu     sync.Mutex
	events []*confmap.ChangeEvent
}

func (n *notifications) watcher(e *confmap.ChangeEvent) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events = append(n.events, e)
}

func (n *notifications) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, e := range n.events {
		if e.Error != nil {
			panic("ChangeEvent with an error would terminate the collector")
		}
	}
	return len(n.events)
}

func newTestProvider(t *testing.T, path string) (*provider, *fakeValidator) {
	t.Helper()
	v := &fakeValidator{path: path}
	return watchingProvider(t, zap.NewNop(), v.validate, 0), v
}

// watchingProvider is a watching provider with the test debounce, shut down when the test ends;
// validateTimeout 0 is the default.
func watchingProvider(t *testing.T, logger *zap.Logger, validate Validator, validateTimeout time.Duration) *provider {
	t.Helper()
	p := newProvider(confmap.ProviderSettings{Logger: logger}, options{
		validate: validate, watch: true, debounce: debounce, validateTimeout: validateTimeout, now: time.Now,
	})
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return p
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
}

func retrieve(t *testing.T, p *provider, path string, n *notifications) *confmap.Retrieved {
	t.Helper()
	var w confmap.WatcherFunc
	if n != nil {
		w = n.watcher
	}
	r, err := p.Retrieve(context.Background(), "file:"+path, w)
	require.NoError(t, err)
	return r
}

func value(t *testing.T, r *confmap.Retrieved, key string) any {
	t.Helper()
	conf, err := r.AsConf()
	require.NoError(t, err)
	return conf.Get(key)
}

func TestSchemeAndBadURI(t *testing.T) {
	p, _ := newTestProvider(t, "")
	assert.Equal(t, "file", p.Scheme())
	_, err := p.Retrieve(context.Background(), "env:X", nil)
	require.ErrorContains(t, err, `"env:X" uri is not supported by "file" provider`)
	_, err = p.Retrieve(context.Background(), "file:"+filepath.Join(t.TempDir(), "missing.yaml"), nil)
	require.ErrorContains(t, err, "unable to read the file")
}

func TestInPlaceWriteNotifiesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	p, v := newTestProvider(t, path)
	n := &notifications{}
	r := retrieve(t, p, path, n)
	assert.Equal(t, 1, value(t, r, "a"))

	write(t, path, "a: 2\n")
	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond)
	// At most once per Retrieve: later edits wait for the next Retrieve.
	write(t, path, "a: 3\n")
	require.Never(t, func() bool { return n.count() > 1 }, quiet, 10*time.Millisecond)
	assert.Equal(t, int32(1), v.calls.Load())

	require.NoError(t, r.Close(context.Background()))
	// The reload's Retrieve serves the new content without validating it again when unchanged
	// since the watcher approved it; here it changed (a: 3) after approval, so it is validated.
	r2 := retrieve(t, p, path, nil)
	assert.Equal(t, 3, value(t, r2, "a"))
	assert.Equal(t, int32(2), v.calls.Load())
}

func TestApprovedContentIsNotValidatedTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	p, v := newTestProvider(t, path)
	n := &notifications{}
	r := retrieve(t, p, path, n)
	write(t, path, "a: 2\n")
	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Close(context.Background()))
	r2 := retrieve(t, p, path, n)
	assert.Equal(t, 2, value(t, r2, "a"))
	assert.Equal(t, int32(1), v.calls.Load())
	require.NoError(t, r2.Close(context.Background()))
}

func TestWriteAndRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	write(t, path, "a: 1\n")
	p, _ := newTestProvider(t, path)
	n := &notifications{}
	retrieve(t, p, path, n)

	tmp := filepath.Join(dir, ".config.yaml.swp")
	write(t, tmp, "a: 2\n")
	require.NoError(t, os.Rename(tmp, path))
	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond)
}

// configMapDir builds the kubelet's layout: config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>.
func configMapDir(t *testing.T, content string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	ts := filepath.Join(dir, "..2026_01_01_00_00_00.000000001")
	require.NoError(t, os.Mkdir(ts, 0o755))
	write(t, filepath.Join(ts, "config.yaml"), content)
	require.NoError(t, os.Symlink(filepath.Base(ts), filepath.Join(dir, "..data")))
	require.NoError(t, os.Symlink(filepath.Join("..data", "config.yaml"), filepath.Join(dir, "config.yaml")))
	return dir, filepath.Join(dir, "config.yaml")
}

// swapConfigMap updates it as the kubelet does: new timestamped dir, `..data_tmp` symlink renamed
// over `..data`, old dir removed. The file's own path never sees an event.
func swapConfigMap(t *testing.T, dir, content, stamp string) {
	t.Helper()
	old, err := os.Readlink(filepath.Join(dir, "..data"))
	require.NoError(t, err)
	ts := filepath.Join(dir, "..2026_01_01_00_00_00."+stamp)
	require.NoError(t, os.Mkdir(ts, 0o755))
	write(t, filepath.Join(ts, "config.yaml"), content)
	require.NoError(t, os.Symlink(filepath.Base(ts), filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, old)))
}

func TestConfigMapSymlinkSwap(t *testing.T) {
	dir, path := configMapDir(t, "a: 1\n")
	p, _ := newTestProvider(t, path)
	n := &notifications{}
	r := retrieve(t, p, path, n)
	assert.Equal(t, 1, value(t, r, "a"))

	swapConfigMap(t, dir, "a: 2\n", "000000002")
	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Close(context.Background()))
	assert.Equal(t, 2, value(t, retrieve(t, p, path, nil), "a"))
}

func TestConfigMapSwapWithSameContentDoesNotNotify(t *testing.T) {
	dir, path := configMapDir(t, "a: 1\n")
	p, v := newTestProvider(t, path)
	n := &notifications{}
	retrieve(t, p, path, n)
	// The kubelet swaps on any change of the ConfigMap, e.g. another key: same bytes here.
	swapConfigMap(t, dir, "a: 1\n", "000000002")
	require.Never(t, func() bool { return n.count() > 0 }, quiet, 10*time.Millisecond)
	assert.Zero(t, v.calls.Load())
}

// A burst of writes is validated once, after it settled: the validated content is the last one,
// read at least one debounce after the last write (a watch without debounce would validate and
// apply the first write of the burst).
func TestBurstIsDebouncedIntoOneValidationAndNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 0\n")
	p, v := newTestProvider(t, path)
	n := &notifications{}
	retrieve(t, p, path, n)
	var last string
	var lastWrite time.Time
	for i := 1; i <= 10; i++ {
		last = "a: " + strings.Repeat("1", i) + "\n"
		write(t, path, last)
		lastWrite = time.Now()
		time.Sleep(debounce / 5)
	}
	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Never(t, func() bool { return n.count() > 1 }, quiet, 10*time.Millisecond)
	runs := v.validations()
	require.Len(t, runs, 1, "only the settled content is validated")
	assert.Equal(t, last, runs[0].content)
	assert.GreaterOrEqual(t, runs[0].at.Sub(lastWrite), debounce, "validated before the burst had settled")
}

// Only the file's own events postpone its reload: a sibling rewritten more often than the
// debounce (a log, another ConfigMap key's tool) must not hold the reload back forever.
func TestSiblingFileEventsDoNotPostponeTheReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	write(t, path, "a: 1\n")
	p, _ := newTestProvider(t, path)
	n := &notifications{}
	retrieve(t, p, path, n)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(debounce / 4):
				_ = os.WriteFile(filepath.Join(dir, "sibling.log"), []byte(strconv.Itoa(i)), 0o600)
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-stopped })
	write(t, path, "a: 2\n")
	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond,
		"the sibling's writes kept postponing the reload")
}

// The directory removed (a volume unmounted, a deploy tool recreating it) and created again: the
// watch says so and picks the file up again instead of going silent.
func TestRemovedDirectoryIsWatchedAgainWhenItComesBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf")
	require.NoError(t, os.Mkdir(dir, 0o755))
	path := filepath.Join(dir, "config.yaml")
	write(t, path, "a: 1\n")
	core, logs := observer.New(zap.InfoLevel)
	v := &fakeValidator{path: path}
	p := watchingProvider(t, zap.New(core), v.validate, 0)
	n := &notifications{}
	retrieve(t, p, path, n)

	require.NoError(t, os.RemoveAll(dir))
	require.Eventually(t, func() bool { return logs.FilterMessageSnippet("directory is gone").Len() == 1 }, 5*time.Second, 10*time.Millisecond)
	// The deletion's own event is checked first (file unreadable): only then is the directory back.
	require.Eventually(t, func() bool { return logs.FilterMessageSnippet("could not be read").Len() > 0 }, 5*time.Second, 10*time.Millisecond)
	assert.Zero(t, n.count())
	require.NoError(t, os.Mkdir(dir, 0o755))
	write(t, path, "a: 2\n")
	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond, "the watch never came back")
	assert.Equal(t, 1, logs.FilterMessageSnippet("directory is back").Len())
}

func TestUnchangedRewriteDoesNotNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	p, v := newTestProvider(t, path)
	n := &notifications{}
	retrieve(t, p, path, n)
	write(t, path, "a: 1\n")
	require.NoError(t, os.Chtimes(path, time.Now(), time.Now()))
	require.Never(t, func() bool { return n.count() > 0 }, quiet, 10*time.Millisecond)
	assert.Zero(t, v.calls.Load())
}

func TestInvalidContentIsRejectedThenFixed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	p, v := newTestProvider(t, path)
	n := &notifications{}
	before := ReadStats()
	retrieve(t, p, path, n)

	write(t, path, "a: invalid\n")
	require.Eventually(t, func() bool { return ReadStats().Failures == before.Failures+1 }, 5*time.Second, 10*time.Millisecond)
	assert.Zero(t, n.count())
	// Writing the same bad content again does not re-validate (or re-count) it.
	write(t, path, "a: invalid\n")
	require.Never(t, func() bool { return v.calls.Load() > 1 }, quiet, 10*time.Millisecond)

	write(t, path, "a: 2\n")
	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, before.Failures+1, ReadStats().Failures)
}

// SIGHUP: the collector re-resolves without a watcher notification; an invalid file must not
// reach it. The previous content is served again and the failure counted.
func TestRetrieveOnReloadServesPreviousContentWhenInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	p, v := newTestProvider(t, path)
	n := &notifications{}
	r := retrieve(t, p, path, n)
	firstSuccess := ReadStats().LastSuccess
	require.False(t, firstSuccess.IsZero())
	require.NoError(t, r.Close(context.Background()))

	write(t, path, "a: invalid\n")
	before := ReadStats()
	r = retrieve(t, p, path, n)
	assert.Equal(t, 1, value(t, r, "a"))
	assert.Equal(t, before.Failures+1, ReadStats().Failures)
	assert.Equal(t, before.LastSuccess, ReadStats().LastSuccess)
	assert.Equal(t, int32(1), v.calls.Load())
	// The watch started from the invalid content: only a different content wakes it.
	require.Never(t, func() bool { return n.count() > 0 }, quiet, 10*time.Millisecond)
	require.NoError(t, r.Close(context.Background()))

	write(t, path, "a: 2\n")
	r = retrieve(t, p, path, nil)
	assert.Equal(t, 2, value(t, r, "a"))
	assert.True(t, ReadStats().LastSuccess.After(before.LastSuccess))
}

// The file deleted between a notification and the reload's Retrieve (or at a SIGHUP): the
// previous configuration is served instead of an error that would stop the collector; once the
// file is back, the watch applies it.
func TestRetrieveOnReloadKeepsPreviousContentWhenUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	p, _ := newTestProvider(t, path)
	n := &notifications{}
	r := retrieve(t, p, path, n)
	require.NoError(t, r.Close(context.Background()))

	require.NoError(t, os.Remove(path))
	before := ReadStats()
	r = retrieve(t, p, path, n)
	assert.Equal(t, 1, value(t, r, "a"))
	assert.Equal(t, before.Failures+1, ReadStats().Failures, "a reload that could not read the file is a failure")

	write(t, path, "a: 2\n")
	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Close(context.Background()))
	assert.Equal(t, 2, value(t, retrieve(t, p, path, nil), "a"))
}

// hangingFirst is a validator whose first run hangs until its deadline (a stuck child), and whose
// later runs pass.
type hangingFirst struct{ calls atomic.Int32 }

func (h *hangingFirst) validate(ctx context.Context) error {
	if h.calls.Add(1) == 1 {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// SIGHUP while validate hangs: Retrieve returns at the validate timeout with the previous content
// (the collector is not left without pipelines, and unvalidated content is not applied), counts one
// failure, and does not take the timeout for a verdict: the watch validates again and reloads.
func TestRetrieveWithHungValidateKeepsPreviousThenRetries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	h := &hangingFirst{}
	p := watchingProvider(t, zap.NewNop(), h.validate, debounce)
	n := &notifications{}
	r := retrieve(t, p, path, n)
	require.NoError(t, r.Close(context.Background()))

	write(t, path, "a: 2\n")
	before := ReadStats()
	r = retrieve(t, p, path, n)
	assert.Equal(t, 1, value(t, r, "a"), "content without a verdict was applied")
	assert.Equal(t, before.Failures+1, ReadStats().Failures)

	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond, "the content was never validated again")
	assert.Equal(t, before.Failures+1, ReadStats().Failures, "the retry that passed is not a failure")
	require.NoError(t, r.Close(context.Background()))
	assert.Equal(t, 2, value(t, retrieve(t, p, path, nil), "a"))
	assert.Equal(t, int32(2), h.calls.Load())
}

// The same in the watch: a validate run that times out is not a rejection of the content.
func TestWatchRetriesAValidateThatTimedOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	h := &hangingFirst{}
	p := watchingProvider(t, zap.NewNop(), h.validate, debounce)
	n := &notifications{}
	before := ReadStats()
	retrieve(t, p, path, n)
	write(t, path, "a: 2\n")
	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, int32(2), h.calls.Load())
	assert.Equal(t, before.Failures+1, ReadStats().Failures)
}

func TestCloseStopsWatching(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	p, _ := newTestProvider(t, path)
	n := &notifications{}
	r := retrieve(t, p, path, n)
	require.NoError(t, r.Close(context.Background()))
	require.NoError(t, r.Close(context.Background()), "close is idempotent")
	write(t, path, "a: 2\n")
	require.Never(t, func() bool { return n.count() > 0 }, quiet, 10*time.Millisecond)
}

func TestShutdownWithPendingTimer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	v := &fakeValidator{path: path}
	p := newProvider(confmap.ProviderSettings{}, options{validate: v.validate, watch: true, debounce: time.Hour, now: time.Now})
	n := &notifications{}
	retrieve(t, p, path, n)
	write(t, path, "a: 2\n") // arms the hour-long debounce timer
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, p.Shutdown(context.Background()))
	assert.Empty(t, p.watches)
	assert.Zero(t, n.count())
	assert.Zero(t, v.calls.Load())
	// goleak (TestMain) proves the goroutine and the fsnotify reader are gone.
}

func TestShutdownDuringValidationCancelsIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	started := make(chan struct{})
	blocking := func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
	p := newProvider(confmap.ProviderSettings{}, options{validate: blocking, watch: true, debounce: debounce, now: time.Now})
	n := &notifications{}
	before := ReadStats().Failures
	retrieve(t, p, path, n)
	write(t, path, "a: 2\n")
	<-started
	require.NoError(t, p.Shutdown(context.Background()))
	assert.Zero(t, n.count())
	assert.Equal(t, before, ReadStats().Failures, "an interrupted validation is not a failure")
}

func TestOneShotRunDoesNotWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write(t, path, "a: 1\n")
	v := &fakeValidator{path: path}
	p := newProvider(confmap.ProviderSettings{}, options{validate: v.validate, watch: false, debounce: debounce, now: time.Now})
	n := &notifications{}
	retrieve(t, p, path, n)
	assert.Empty(t, p.watches)
	write(t, path, "a: invalid\n")
	r := retrieve(t, p, path, n)
	assert.Equal(t, "invalid", value(t, r, "a"), "a validate run reports the file as it is")
	assert.Zero(t, v.calls.Load())
}

func TestDebounceFromEnvironment(t *testing.T) {
	p := newProvider(confmap.ProviderSettings{}, options{watch: true, now: time.Now})
	t.Setenv(DebounceEnv, "")
	d, err := p.debounce()
	require.NoError(t, err)
	assert.Equal(t, DefaultDebounce, d)
	t.Setenv(DebounceEnv, "250ms")
	d, err = p.debounce()
	require.NoError(t, err)
	assert.Equal(t, 250*time.Millisecond, d)
	t.Setenv(DebounceEnv, "soon")
	_, err = p.debounce()
	require.ErrorContains(t, err, `OTELCOL_SEALOS_RELOAD_DEBOUNCE: want a positive duration such as 500ms or 3s, got "soon"`)
}

// Two files of one config change together: one reload, not two (the resolver's channel has one
// slot, and a second send would block while the collector closes the watches).
func TestTwoFilesChangingNotifyOnce(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	write(t, a, "a: 1\n")
	write(t, b, "b: 1\n")
	p, _ := newTestProvider(t, a)
	n := &notifications{}
	retrieve(t, p, a, n)
	retrieve(t, p, b, n)
	write(t, a, "a: 2\n")
	write(t, b, "b: 2\n")
	require.Eventually(t, func() bool { return n.count() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Never(t, func() bool { return n.count() > 1 }, quiet, 10*time.Millisecond)
}
