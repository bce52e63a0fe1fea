package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/prosim/prosim/internal/backend/providers"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/provider"
	"github.com/prosim/prosim/internal/yamlx"
)

// WithMissingKeys is the problems of an experiment file that could not be checked at all
// (experiment.LoadChecking gave no experiment: values of the wrong type, unknown fields that
// the rest of the file could not be decoded apart from, see yamlx.Doc.DecodeSound) with
// its backends' missing API keys added, so that these do not come a run later (QA12 #9:
// "timeout: 5 minutes" beside an unset key). Only the fields that say which key is wanted are
// read (provider, api_key_env, base_url, endpoints), of the backends where none of them has a
// problem; a file that does not parse, or names a NATS broker (whose workers hold the keys),
// is left as it is.
func WithMissingKeys(file string, problems error) error {
	// The file's own problems come first, then its population file's (experiment.Load).
	own, others := problems, []error(nil)
	if j, ok := problems.(interface{ Unwrap() []error }); ok && !isErrors(problems) {
		if errs := j.Unwrap(); len(errs) > 0 {
			own, others = errs[0], errs[1:]
		}
	}
	with := withMissingKeys(file, own)
	if with == own {
		return problems
	}
	return yamlx.Join(append([]error{with}, others...)...)
}

func isErrors(err error) bool {
	_, ok := err.(*yamlx.Errors)
	return ok
}

// withMissingKeys is WithMissingKeys for the file's own problems.
func withMissingKeys(file string, problems error) error {
	var es *yamlx.Errors
	var e *yamlx.Error
	var broken []string
	switch {
	case errors.As(problems, &es) && es == problems && es.File == file && es.More == 0 && !es.Stopped:
		for _, x := range es.Errs {
			broken = append(broken, x.Field)
		}
	case errors.As(problems, &e) && e == problems && e.File == file && e.Line > 0:
		broken = append(broken, e.Field)
	default:
		return problems // a syntax error, another file's, or more than are shown
	}
	data, err := yamlx.ReadFile(file)
	if err != nil {
		return problems
	}
	doc, err := yamlx.ParseFile(data, file)
	if err != nil {
		return problems
	}
	var nats string
	if _, err := doc.DecodeAt("execution.nats", &nats); err != nil || nats != "" {
		return problems
	}
	var paths []string
	switch hasList, hasBlock := doc.Has("backends"), doc.Has("backend"); {
	case hasList && !hasBlock:
		for i := 0; doc.Has(fmt.Sprintf("backends[%d]", i)); i++ {
			paths = append(paths, fmt.Sprintf("backends[%d]", i))
		}
	case hasBlock && !hasList:
		paths = []string{"backend"}
	}
	l := yamlx.NewList(file)
	l.Add(problems)
	for _, path := range paths {
		if err := fileBackendKey(doc, path, broken); err != nil {
			l.Add(doc.Errorf(path, "%v", err))
		}
	}
	return l.Err()
}

// fileBackendKey is the missing key of the file's backend at path, nil when its key is there,
// or when a field naming it has a problem (broken) or cannot be read.
func fileBackendKey(doc *yamlx.Doc, path string, broken []string) error {
	for _, f := range []string{"provider", "api_key_env", "base_url", "endpoints"} {
		p := path + "." + f
		for _, b := range broken {
			if b == p || strings.HasPrefix(b, p+".") || strings.HasPrefix(b, p+"[") || b == path || b == "" {
				return nil
			}
		}
	}
	var b experiment.Backend
	for _, f := range []struct {
		field string
		v     any
	}{{"provider", &b.Provider}, {"api_key_env", &b.APIKeyEnv}, {"base_url", &b.BaseURL}, {"endpoints", &b.Endpoints}} {
		if _, err := doc.DecodeAt(path+"."+f.field, f.v); err != nil {
			return nil
		}
	}
	if _, known := provider.Lookup(b.Provider); !known || b.Provider == "builtin" || experiment.HoldsKey(b.APIKeyEnv) {
		return nil
	}
	for _, u := range b.URLs() {
		if err := providers.MissingKey(providers.Spec{Provider: b.Provider, BaseURL: u, APIKeyEnv: b.APIKeyEnv}); err != nil {
			return err
		}
	}
	return nil
}
