package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// cacheKey is the store meta key of the run's cache choice on the command line: "" (none: the
// experiment's cache: or the user cache directory), "off" (--no-cache) or an absolute path
// (--cache PATH). `prosim resume` uses it unless given a cache flag of its own.
const cacheKey = "option.cache"

// cacheChoice is what opt says of the cache, as recorded under cacheKey.
func cacheChoice(opt Options) (string, error) {
	switch {
	case opt.NoCache:
		return "off", nil
	case opt.CachePath == experiment.CacheNATS:
		return experiment.CacheNATS, nil
	case opt.CachePath != "":
		abs, err := filepath.Abs(opt.CachePath) // resume may run from another directory
		if err != nil {
			return "", err
		}
		return abs, nil
	}
	return "", nil
}

func describeCache(choice string) string {
	switch choice {
	case "off":
		return "--no-cache"
	case "":
		return "the experiment's cache (no cache flag)"
	case experiment.CacheNATS:
		return "--cache nats (the broker's shared cache)"
	}
	return "--cache " + choice
}

// recordOptions records the run-time options a resume must reuse (never a key: only the
// cache choice; seed and backends are in config.yaml).
func recordOptions(st *store.Store, opt Options) error {
	c, err := cacheChoice(opt)
	if err != nil {
		return err
	}
	return st.SetMeta(cacheKey, c)
}

// reuseOptions applies the run's recorded options to opt, unless opt.CacheFlag says the
// resume was given its own (then a notice says that it overrides the run's).
func reuseOptions(st *store.Store, opt *Options) error {
	rec, err := st.Meta(cacheKey)
	if err != nil {
		return err
	}
	if !opt.CacheFlag {
		opt.NoCache, opt.CachePath = rec == "off", ""
		if rec != "off" {
			opt.CachePath = rec
		}
		return nil
	}
	now, err := cacheChoice(*opt)
	if err != nil {
		return err
	}
	if now != rec && opt.Notices != nil {
		fmt.Fprintf(opt.Notices, "prosim: resume uses %s instead of the run's %s (for this resume only)\n", describeCache(now), describeCache(rec))
	}
	return nil
}

// brokerRunKey is the store meta key of the run's name on a broker (Options.BrokerRun): in
// the folder, so a folder moved between a killed coordinator and its resume finds its stream
// again (QA16 F3: the name came from the folder's path, and a moved folder's resume left
// the old coordinator's tasks unadopted, 9 paid calls unrecorded, and its stream behind).
const brokerRunKey = "broker_run"

// recordBrokerRun records opt.BrokerRun in st unless a name is recorded already (a run first
// decided without a broker, or by a prosim that did not record it, keeps the one it gets).
func recordBrokerRun(st *store.Store, opt Options) error {
	if opt.BrokerRun == "" {
		return nil
	}
	rec, err := st.Meta(brokerRunKey)
	if err != nil || rec != "" {
		return err
	}
	return st.SetMeta(brokerRunKey, opt.BrokerRun)
}

// BrokerRun is the name on a broker recorded in the run in dir (Options.BrokerRun), "" when
// none is; exists says whether the run has a database (a run interrupted as its folder was
// being created may have none).
func BrokerRun(dir string) (name string, exists bool, err error) {
	path := filepath.Join(dir, dbFile)
	st, err := store.OpenReadOnly(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	defer st.Close()
	v, err := st.Meta(brokerRunKey)
	if err != nil {
		return "", true, fmt.Errorf("%s: %w", path, err)
	}
	return v, true, nil
}
